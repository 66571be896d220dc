import { createHash, randomUUID } from 'node:crypto';
import { createServer } from 'node:http';
import { listenOnLoopback } from './loopback.js';

/** One message as SendMessage received it. */
interface LocalSqsMessage {
  messageId: string;
  queueUrl: string;
  body: string;
  groupId: string | undefined;
  deduplicationId: string | undefined;
}

export interface LocalSqs {
  url: string;
  /** Messages kept, in order; a FIFO repeat of a deduplication id is dropped (as SQS does for 5 minutes). */
  messages: LocalSqsMessage[];
  sends: number;
  close(): Promise<void>;
}

/**
 * A local endpoint that speaks SQS's SendMessage (AWS JSON 1.0, X-Amz-Target AmazonSQS.SendMessage), for
 * the webhook endpoint's tests: the SDK reaches it through AWS_ENDPOINT_URL_SQS.
 */
export const startLocalSqs = async (): Promise<LocalSqs> => {
  const state: LocalSqs = { url: '', messages: [], sends: 0, close: async () => {} };
  const server = createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const input = JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}') as Record<string, string>;
    res.setHeader('content-type', 'application/x-amz-json-1.0');
    if (req.headers['x-amz-target'] !== 'AmazonSQS.SendMessage' || typeof input.MessageBody !== 'string') {
      res.writeHead(400);
      res.end(JSON.stringify({ __type: 'com.amazonaws.sqs#InvalidAction', message: 'not supported here' }));
      return;
    }
    state.sends++;
    const duplicate =
      input.MessageDeduplicationId !== undefined &&
      state.messages.some((m) => m.deduplicationId === input.MessageDeduplicationId);
    const messageId = randomUUID();
    if (!duplicate) {
      state.messages.push({
        messageId,
        queueUrl: String(input.QueueUrl),
        body: input.MessageBody,
        groupId: input.MessageGroupId,
        deduplicationId: input.MessageDeduplicationId,
      });
    }
    res.end(
      JSON.stringify({
        MessageId: messageId,
        MD5OfMessageBody: createHash('md5').update(input.MessageBody).digest('hex'),
      }),
    );
  });
  ({ url: state.url, close: state.close } = await listenOnLoopback(server));
  return state;
};
