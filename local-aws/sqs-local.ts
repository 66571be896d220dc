import { createHash, randomUUID } from 'node:crypto';
import type { ServerResponse } from 'node:http';
import { createServer } from 'node:http';
import { listenOnLoopback } from './loopback.js';

/** One message as SendMessage (or SendMessageBatch) received it. */
export interface LocalSqsMessage {
  messageId: string;
  queueUrl: string;
  body: string;
  groupId: string | undefined;
  deduplicationId: string | undefined;
}

/** A message still on its queue: received ones are invisible until their visibility ends. */
interface Queued extends LocalSqsMessage {
  sentAt: number;
  visibleAt: number;
  receiveCount: number;
  firstReceivedAt: number | undefined;
  receiptHandle: string | undefined;
}

/** Entries of the next SendMessageBatch call that fail (by entry id). */
export interface BatchFault {
  ids: string[];
  senderFault?: boolean;
  code?: string;
}

export interface LocalSqs {
  url: string;
  /** Messages kept, in order; a FIFO repeat of a deduplication id within 5 minutes is dropped, as SQS does. */
  messages: LocalSqsMessage[];
  /** SendMessage calls, and SendMessageBatch calls. */
  sends: number;
  batchSends: number;
  /** ChangeMessageVisibility calls: the receipt's message and the new timeout. */
  visibilityChanges: Array<{ messageId: string; seconds: number }>;
  deletes: number;
  batchFaults: BatchFault[];
  /** Messages still on a queue (not deleted), received or not. */
  pending(queueUrl: string): number;
  close(): Promise<void>;
}

const DEDUP_WINDOW_MS = 5 * 60_000;
const md5 = (text: string) => createHash('md5').update(text).digest('hex');

/**
 * A local endpoint that speaks SQS (AWS JSON 1.0, X-Amz-Target AmazonSQS.*): SendMessage and
 * SendMessageBatch, ReceiveMessage with long polling and a visibility timeout, DeleteMessage,
 * ChangeMessageVisibility and PurgeQueue. A FIFO queue (a URL ending in .fifo) hands out one message of a group at a
 * time, in order, as SQS does. The SDK reaches it through AWS_ENDPOINT_URL_SQS.
 */
export const startLocalSqs = async (): Promise<LocalSqs> => {
  const queues = new Map<string, Queued[]>();
  const queueOf = (url: string) => {
    let queue = queues.get(url);
    if (!queue) {
      queue = [];
      queues.set(url, queue);
    }
    return queue;
  };
  const state: LocalSqs = {
    url: '',
    messages: [],
    sends: 0,
    batchSends: 0,
    visibilityChanges: [],
    deletes: 0,
    batchFaults: [],
    pending: (url) => queueOf(url).length,
    close: async () => {},
  };

  /** Queues one message unless its deduplication id was seen within the window; returns its id. */
  const enqueue = (queueUrl: string, body: string, groupId?: string, deduplicationId?: string) => {
    const now = Date.now();
    const queue = queueOf(queueUrl);
    const duplicate =
      deduplicationId !== undefined &&
      state.messages.some(
        (m) =>
          m.queueUrl === queueUrl &&
          m.deduplicationId === deduplicationId &&
          now - ((m as Partial<Queued>).sentAt ?? 0) < DEDUP_WINDOW_MS,
      );
    const messageId = randomUUID();
    if (!duplicate) {
      const message: Queued = {
        messageId,
        queueUrl,
        body,
        groupId,
        deduplicationId,
        sentAt: now,
        visibleAt: now,
        receiveCount: 0,
        firstReceivedAt: undefined,
        receiptHandle: undefined,
      };
      state.messages.push(message);
      queue.push(message);
    }
    return messageId;
  };

  /** What a receive may take now: visible messages; on a FIFO queue, none of a group with one in flight. */
  const available = (queueUrl: string, max: number): Queued[] => {
    const now = Date.now();
    const queue = queueOf(queueUrl);
    const fifo = queueUrl.endsWith('.fifo');
    const busy = new Set<string | undefined>();
    const taken: Queued[] = [];
    for (const message of queue) {
      if (taken.length >= max) break;
      if (fifo && busy.has(message.groupId)) continue;
      if (message.visibleAt > now) {
        if (fifo) busy.add(message.groupId);
        continue;
      }
      taken.push(message);
      if (fifo) busy.add(message.groupId);
    }
    return taken;
  };

  const fail = (res: ServerResponse, type: string, message: string) => {
    res.writeHead(400);
    res.end(JSON.stringify({ __type: `com.amazonaws.sqs#${type}`, message }));
  };

  const server = createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const input = JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}') as Record<string, unknown>;
    res.setHeader('content-type', 'application/x-amz-json-1.0');
    const target = String(req.headers['x-amz-target'] ?? '');
    const queueUrl = String(input.QueueUrl ?? '');
    if (target === 'AmazonSQS.SendMessage' && typeof input.MessageBody === 'string') {
      state.sends++;
      const body = input.MessageBody;
      const messageId = enqueue(
        queueUrl,
        body,
        input.MessageGroupId as string | undefined,
        input.MessageDeduplicationId as string | undefined,
      );
      res.end(JSON.stringify({ MessageId: messageId, MD5OfMessageBody: md5(body) }));
      return;
    }
    if (target === 'AmazonSQS.SendMessageBatch' && Array.isArray(input.Entries)) {
      state.batchSends++;
      const entries = input.Entries as Array<Record<string, string>>;
      if (entries.length > 10) return fail(res, 'TooManyEntriesInBatchRequest', 'at most 10 entries');
      const fault = state.batchFaults.shift();
      const Successful = [];
      const Failed = [];
      for (const entry of entries) {
        if (fault?.ids.includes(String(entry.Id))) {
          Failed.push({
            Id: entry.Id,
            Code: fault.code ?? 'InternalError',
            SenderFault: fault.senderFault ?? false,
            Message: 'injected',
          });
          continue;
        }
        const body = String(entry.MessageBody);
        const messageId = enqueue(queueUrl, body, entry.MessageGroupId, entry.MessageDeduplicationId);
        Successful.push({ Id: entry.Id, MessageId: messageId, MD5OfMessageBody: md5(body) });
      }
      res.end(JSON.stringify({ Successful, Failed }));
      return;
    }
    if (target === 'AmazonSQS.ReceiveMessage') {
      const max = Math.min(10, Number(input.MaxNumberOfMessages ?? 1));
      const waitMs = Number(input.WaitTimeSeconds ?? 0) * 1000;
      const visibilityMs = Number(input.VisibilityTimeout ?? 30) * 1000;
      const until = Date.now() + waitMs;
      let taken = available(queueUrl, max);
      while (taken.length === 0 && Date.now() < until && !res.destroyed) {
        await new Promise((r) => setTimeout(r, 25));
        taken = available(queueUrl, max);
      }
      const now = Date.now();
      const Messages = taken.map((m) => {
        m.receiveCount++;
        m.firstReceivedAt ??= now;
        m.visibleAt = now + visibilityMs;
        m.receiptHandle = randomUUID();
        return {
          MessageId: m.messageId,
          ReceiptHandle: m.receiptHandle,
          MD5OfBody: md5(m.body),
          Body: m.body,
          Attributes: {
            ApproximateReceiveCount: String(m.receiveCount),
            SentTimestamp: String(m.sentAt),
            ApproximateFirstReceiveTimestamp: String(m.firstReceivedAt),
            SenderId: 'AIDALOCAL',
            ...(m.groupId ? { MessageGroupId: m.groupId } : {}),
            ...(m.deduplicationId ? { MessageDeduplicationId: m.deduplicationId } : {}),
          },
        };
      });
      res.end(JSON.stringify(Messages.length > 0 ? { Messages } : {}));
      return;
    }
    const byReceipt = () => {
      const queue = queueOf(queueUrl);
      const index = queue.findIndex((m) => m.receiptHandle === input.ReceiptHandle);
      return { queue, index };
    };
    if (target === 'AmazonSQS.DeleteMessage') {
      const { queue, index } = byReceipt();
      state.deletes++;
      if (index >= 0) queue.splice(index, 1);
      res.end('{}');
      return;
    }
    if (target === 'AmazonSQS.PurgeQueue') {
      queueOf(queueUrl).length = 0;
      res.end('{}');
      return;
    }
    if (target === 'AmazonSQS.ChangeMessageVisibility') {
      const { queue, index } = byReceipt();
      const message = queue[index];
      if (!message) return fail(res, 'ReceiptHandleIsInvalid', 'no such receipt');
      const seconds = Number(input.VisibilityTimeout ?? 0);
      message.visibleAt = Date.now() + seconds * 1000;
      state.visibilityChanges.push({ messageId: message.messageId, seconds });
      res.end('{}');
      return;
    }
    fail(res, 'InvalidAction', 'not supported here');
  });
  ({ url: state.url, close: state.close } = await listenOnLoopback(server));
  return state;
};
