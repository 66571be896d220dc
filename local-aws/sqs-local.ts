import { createHash, randomUUID } from 'node:crypto';
import { createServer } from 'node:http';
import type { SQSRecord } from 'aws-lambda';
import { listenOnLoopback } from './loopback.js';

/** SQS FIFO's deduplication interval: a repeat of an id sent within it is accepted and not delivered. */
export const FIFO_DEDUPLICATION_MS = 5 * 60_000;

/** One message as a send (SendMessage or an entry of SendMessageBatch) gave it to the queue. */
interface LocalSqsMessage {
  messageId: string;
  queueUrl: string;
  body: string;
  groupId: string | undefined;
  deduplicationId: string | undefined;
  sentAt: number;
  /** Not handed out before this (the queue's delivery delay, then each visibility timeout). */
  visibleAt: number;
  receiveCount: number;
  firstReceivedAt: number | undefined;
  /** The latest receipt's handle: DeleteMessage and ChangeMessageVisibility name it. */
  receiptHandle: string | undefined;
  status: 'queued' | 'in-flight' | 'deleted';
}

/** Entries of the next SendMessageBatch call that fail (by entry id): plays SQS refusing some. */
interface BatchFault {
  ids: string[];
  senderFault?: boolean;
  code?: string;
}

export interface LocalSqsOptions {
  /** The clock (default: `Date.now()` at each call, so a test that fakes Date moves the queue too). */
  now?: () => number;
  /** The queues' delivery delay (the DelaySeconds queue attribute), in ms (default 0). */
  deliveryDelayMs?: number;
  /** How long a received message stays invisible before it comes back, in ms (default 120 s). */
  visibilityTimeoutMs?: number;
}

export interface LocalSqs {
  url: string;
  /** Messages kept, in the order sent; a FIFO repeat of a deduplication id within 5 minutes is not kept. */
  messages: LocalSqsMessage[];
  /** Messages sent (each entry of a batch counts once), repeats included. */
  sends: number;
  /** Sends accepted as FIFO repeats and not delivered. */
  duplicates: number;
  /** SendMessageBatch calls. */
  batchSends: number;
  /** DeleteMessage calls. */
  deletes: number;
  /** ChangeMessageVisibility calls: the receipt's message and the new timeout. */
  visibilityChanges: Array<{ messageId: string; seconds: number }>;
  /** Faults for the next SendMessageBatch calls, in turn. */
  batchFaults: BatchFault[];
  /** Messages still on a queue (not deleted), received or not. */
  pending(queueUrl: string): number;
  /**
   * What Lambda's event source mapping would hand the function now: up to `max` visible messages of the
   * queue, as SQS records. FIFO: in order within a group, and nothing from a group whose earlier message is
   * in flight or not visible yet. The messages are in flight until `settle`.
   */
  receive(queueUrl: string, max?: number): SQSRecord[];
  /**
   * Ends an invocation as the event source mapping does: the records' messages are deleted, except those
   * the partial batch response names (or all of them when the invocation threw: `response` 'error'), which
   * come back after the visibility timeout.
   */
  settle(
    records: readonly SQSRecord[],
    response: { batchItemFailures?: Array<{ itemIdentifier: string }> } | 'error',
  ): void;
  close(): Promise<void>;
}

class SqsError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

interface SendInput {
  QueueUrl?: unknown;
  MessageBody?: unknown;
  MessageGroupId?: unknown;
  MessageDeduplicationId?: unknown;
  DelaySeconds?: unknown;
}

const optionalString = (value: unknown): string | undefined =>
  typeof value === 'string' ? value : undefined;

/**
 * A local endpoint that speaks SQS (AWS JSON 1.0, X-Amz-Target AmazonSQS.*): SendMessage and
 * SendMessageBatch, ReceiveMessage (long polling, a visibility timeout), DeleteMessage,
 * ChangeMessageVisibility and PurgeQueue, as a FIFO queue does for a queue URL ending in `.fifo`: a message group and a deduplication
 * id are required (content-based deduplication is not played), a per-message delay is refused, and a
 * deduplication id sent within the last 5 minutes (of that queue, whether or not its message was received
 * and deleted since) is accepted and not delivered. The SDK reaches it through AWS_ENDPOINT_URL_SQS; tests
 * play the Lambda event source mapping with `receive` and `settle`.
 */
export const startLocalSqs = async (options: LocalSqsOptions = {}): Promise<LocalSqs> => {
  const now = options.now ?? (() => Date.now());
  const deliveryDelayMs = options.deliveryDelayMs ?? 0;
  const visibilityTimeoutMs = options.visibilityTimeoutMs ?? 120_000;
  /** Per queue URL: deduplication id → when its message was accepted. */
  const deduplication = new Map<string, Map<string, number>>();

  const send = (input: SendInput, queueUrl: string): { messageId: string; md5: string } => {
    const body = input.MessageBody;
    if (typeof body !== 'string' || body === '')
      throw new SqsError('MissingParameter', 'The request must contain the parameter MessageBody.');
    const groupId = optionalString(input.MessageGroupId);
    const deduplicationId = optionalString(input.MessageDeduplicationId);
    const fifo = queueUrl.endsWith('.fifo');
    if (fifo && groupId === undefined)
      throw new SqsError('MissingParameter', 'The request must contain the parameter MessageGroupId.');
    if (fifo && deduplicationId === undefined)
      throw new SqsError(
        'InvalidParameterValue',
        'The queue should either have ContentBasedDeduplication enabled or MessageDeduplicationId provided explicitly',
      );
    if (fifo && input.DelaySeconds !== undefined)
      throw new SqsError(
        'InvalidParameterValue',
        'Value for parameter DelaySeconds is invalid. Reason: The request include parameter that is not valid for this queue type.',
      );
    state.sends++;
    const at = now();
    const messageId = randomUUID();
    const md5 = createHash('md5').update(body).digest('hex');
    if (fifo && deduplicationId !== undefined) {
      const seen = deduplication.get(queueUrl) ?? new Map<string, number>();
      deduplication.set(queueUrl, seen);
      const acceptedAt = seen.get(deduplicationId);
      if (acceptedAt !== undefined && at < acceptedAt + FIFO_DEDUPLICATION_MS) {
        state.duplicates++;
        return { messageId, md5 };
      }
      seen.set(deduplicationId, at);
    }
    state.messages.push({
      messageId,
      queueUrl,
      body,
      groupId,
      deduplicationId,
      sentAt: at,
      visibleAt: at + deliveryDelayMs,
      receiveCount: 0,
      firstReceivedAt: undefined,
      receiptHandle: undefined,
      status: 'queued',
    });
    return { messageId, md5 };
  };

  const arnOf = (queueUrl: string) => {
    const [account = '000000000000', name = 'queue'] = new URL(queueUrl).pathname.split('/').slice(1);
    return `arn:aws:sqs:us-east-1:${account}:${name}`;
  };

  /**
   * What a receive may take now, up to `max`: visible messages in order; FIFO, nothing of a group behind a
   * message of it that is in flight or not visible yet.
   */
  const available = (queueUrl: string, max: number): LocalSqsMessage[] => {
    const at = now();
    const blocked = new Set<string>();
    const chosen: LocalSqsMessage[] = [];
    for (const message of state.messages) {
      if (chosen.length >= max) break;
      if (message.queueUrl !== queueUrl || message.status === 'deleted') continue;
      const group = message.groupId;
      if (group !== undefined && blocked.has(group)) continue;
      if (message.visibleAt > at) {
        if (group !== undefined) blocked.add(group);
        continue;
      }
      chosen.push(message);
    }
    return chosen;
  };

  /** A message received at `at`, invisible for `visibilityMs`. */
  const taken = (message: LocalSqsMessage, at: number, visibilityMs: number) => {
    message.status = 'in-flight';
    message.receiveCount++;
    message.firstReceivedAt ??= at;
    message.visibleAt = at + visibilityMs;
    message.receiptHandle = `${message.messageId}#${message.receiveCount}`;
  };

  const attributesOf = (message: LocalSqsMessage): Record<string, string> => ({
    ApproximateReceiveCount: String(message.receiveCount),
    SentTimestamp: String(message.sentAt),
    SenderId: 'local',
    ApproximateFirstReceiveTimestamp: String(message.firstReceivedAt ?? now()),
    ...(message.groupId === undefined ? {} : { MessageGroupId: message.groupId }),
    ...(message.deduplicationId === undefined ? {} : { MessageDeduplicationId: message.deduplicationId }),
  });

  const byReceipt = (queueUrl: string, handle: unknown) =>
    state.messages.find(
      (m) => m.queueUrl === queueUrl && m.status !== 'deleted' && m.receiptHandle === handle,
    );

  const state: LocalSqs = {
    url: '',
    messages: [],
    sends: 0,
    duplicates: 0,
    batchSends: 0,
    deletes: 0,
    visibilityChanges: [],
    batchFaults: [],
    pending: (queueUrl) =>
      state.messages.filter((m) => m.queueUrl === queueUrl && m.status !== 'deleted').length,
    receive(queueUrl, max = 10) {
      const at = now();
      return available(queueUrl, max).map((message) => {
        // Played as the event source mapping: in flight until settled.
        taken(message, at, Number.POSITIVE_INFINITY);
        return {
          messageId: message.messageId,
          receiptHandle: message.receiptHandle as string,
          body: message.body,
          attributes: attributesOf(message) as unknown as SQSRecord['attributes'],
          messageAttributes: {},
          md5OfBody: createHash('md5').update(message.body).digest('hex'),
          eventSource: 'aws:sqs',
          eventSourceARN: arnOf(queueUrl),
          awsRegion: 'us-east-1',
        };
      });
    },
    settle(records, response) {
      const failed = new Set(
        response === 'error'
          ? records.map((r) => r.messageId)
          : (response.batchItemFailures ?? []).map((f) => f.itemIdentifier),
      );
      for (const record of records) {
        const message = state.messages.find((m) => m.messageId === record.messageId);
        if (message?.status !== 'in-flight') continue;
        if (failed.has(message.messageId)) {
          message.status = 'queued';
          message.visibleAt = now() + visibilityTimeoutMs;
        } else message.status = 'deleted';
      }
    },
    close: async () => {},
  };

  const server = createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    res.setHeader('content-type', 'application/x-amz-json-1.0');
    const fail = (error: SqsError) => {
      res.writeHead(400);
      res.end(JSON.stringify({ __type: `com.amazonaws.sqs#${error.code}`, message: error.message }));
    };
    try {
      const input = JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}') as Record<string, unknown>;
      const queueUrl = optionalString(input.QueueUrl);
      if (queueUrl === undefined)
        throw new SqsError('MissingParameter', 'The request must contain the parameter QueueUrl.');
      const target = req.headers['x-amz-target'];
      if (target === 'AmazonSQS.SendMessage') {
        const { messageId, md5 } = send(input, queueUrl);
        res.end(JSON.stringify({ MessageId: messageId, MD5OfMessageBody: md5 }));
        return;
      }
      if (target === 'AmazonSQS.SendMessageBatch') {
        const entries = Array.isArray(input.Entries)
          ? (input.Entries as Array<SendInput & { Id?: unknown }>)
          : [];
        if (entries.length === 0 || entries.length > 10)
          throw new SqsError(
            entries.length === 0 ? 'EmptyBatchRequest' : 'TooManyEntriesInBatchRequest',
            'A batch holds 1 to 10 entries.',
          );
        const ids = entries.map((e) => optionalString(e.Id) ?? '');
        if (new Set(ids).size !== ids.length || ids.includes(''))
          throw new SqsError('BatchEntryIdsNotDistinct', 'Two or more batch entries have the same Id.');
        state.batchSends++;
        const fault = state.batchFaults.shift();
        const Successful: unknown[] = [];
        const Failed: unknown[] = [];
        for (const [index, entry] of entries.entries()) {
          if (fault?.ids.includes(ids[index] as string)) {
            Failed.push({
              Id: ids[index],
              SenderFault: fault.senderFault ?? false,
              Code: fault.code ?? 'InternalError',
              Message: 'injected',
            });
            continue;
          }
          try {
            const { messageId, md5 } = send(entry, queueUrl);
            Successful.push({ Id: ids[index], MessageId: messageId, MD5OfMessageBody: md5 });
          } catch (error) {
            if (!(error instanceof SqsError)) throw error;
            Failed.push({ Id: ids[index], SenderFault: true, Code: error.code, Message: error.message });
          }
        }
        res.end(JSON.stringify({ Successful, Failed }));
        return;
      }
      if (target === 'AmazonSQS.ReceiveMessage') {
        const max = Math.min(10, Number(input.MaxNumberOfMessages ?? 1));
        const until = Date.now() + Number(input.WaitTimeSeconds ?? 0) * 1000;
        const visibilityMs = Number(input.VisibilityTimeout ?? visibilityTimeoutMs / 1000) * 1000;
        let chosen = available(queueUrl, max);
        // Long polling: wait for a message, on the wall clock (a real SQS client waits so too).
        while (chosen.length === 0 && Date.now() < until && !res.destroyed) {
          await new Promise((resolve) => setTimeout(resolve, 25));
          chosen = available(queueUrl, max);
        }
        const at = now();
        const Messages = chosen.map((message) => {
          taken(message, at, visibilityMs);
          return {
            MessageId: message.messageId,
            ReceiptHandle: message.receiptHandle,
            MD5OfBody: createHash('md5').update(message.body).digest('hex'),
            Body: message.body,
            Attributes: attributesOf(message),
          };
        });
        res.end(JSON.stringify(Messages.length > 0 ? { Messages } : {}));
        return;
      }
      if (target === 'AmazonSQS.DeleteMessage') {
        state.deletes++;
        const message = byReceipt(queueUrl, input.ReceiptHandle);
        if (message) message.status = 'deleted';
        res.end('{}');
        return;
      }
      if (target === 'AmazonSQS.ChangeMessageVisibility') {
        const message = byReceipt(queueUrl, input.ReceiptHandle);
        if (!message) throw new SqsError('ReceiptHandleIsInvalid', 'no such receipt');
        const seconds = Number(input.VisibilityTimeout ?? 0);
        message.visibleAt = now() + seconds * 1000;
        state.visibilityChanges.push({ messageId: message.messageId, seconds });
        res.end('{}');
        return;
      }
      if (target === 'AmazonSQS.PurgeQueue') {
        for (const message of state.messages) if (message.queueUrl === queueUrl) message.status = 'deleted';
        res.end('{}');
        return;
      }
      throw new SqsError('InvalidAction', 'not supported here');
    } catch (error) {
      fail(error instanceof SqsError ? error : new SqsError('InvalidParameterValue', String(error)));
    }
  });
  ({ url: state.url, close: state.close } = await listenOnLoopback(server));
  return state;
};
