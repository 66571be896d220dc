import type { SQSClient } from '@aws-sdk/client-sqs';
import { ChangeMessageVisibilityCommand, SendMessageBatchCommand } from '@aws-sdk/client-sqs';
import type { QueuedMessage } from '../fanout/plan.js';
import { backoffDelay, sleep } from '../shared/timing.js';
import { fifoFields, SEND_BATCH_SIZE } from './sqs-fifo.js';

const ATTEMPTS = 4;

export interface SendOutcome {
  sent: number;
  calls: number;
  /** Entries SQS refused for good (or still failing after the retries), by entry id. */
  failed: Array<{ entryId: string; code: string }>;
}

/** The poll queue: the dispatcher sends a period's messages, the worker hands a message back for later. */
export class SqsPollQueue {
  constructor(
    private readonly options: {
      client: SQSClient;
      queueUrl: string;
      sleep?: (ms: number) => Promise<unknown>;
      random?: () => number;
    },
  ) {}

  /**
   * Sends ten a call; entries that fail on SQS's side are sent again (with backoff), those refused as the
   * sender's fault are reported at once.
   */
  async send(messages: QueuedMessage[]): Promise<SendOutcome> {
    const outcome: SendOutcome = { sent: 0, calls: 0, failed: [] };
    const pause = this.options.sleep ?? sleep;
    for (let start = 0; start < messages.length; start += SEND_BATCH_SIZE) {
      let pending = messages.slice(start, start + SEND_BATCH_SIZE);
      for (let attempt = 1; pending.length > 0; attempt++) {
        if (attempt > 1)
          await pause(
            backoffDelay({ baseDelayMs: 200, maxDelayMs: 2_000 }, attempt - 1, this.options.random),
          );
        outcome.calls++;
        const out = await this.options.client.send(
          new SendMessageBatchCommand({
            QueueUrl: this.options.queueUrl,
            Entries: pending.map((m) => ({ Id: m.entryId, ...fifoFields(m) })),
          }),
        );
        outcome.sent += out.Successful?.length ?? 0;
        const retry = new Set<string>();
        for (const failure of out.Failed ?? []) {
          if (failure.SenderFault || attempt >= ATTEMPTS)
            outcome.failed.push({ entryId: failure.Id ?? '?', code: failure.Code ?? 'unknown' });
          else if (failure.Id) retry.add(failure.Id);
        }
        pending = pending.filter((m) => retry.has(m.entryId));
      }
    }
    return outcome;
  }

  /** Makes a received message visible again after `seconds` (instead of the queue's visibility timeout). */
  async retryAfter(receiptHandle: string, seconds: number) {
    await this.options.client.send(
      new ChangeMessageVisibilityCommand({
        QueueUrl: this.options.queueUrl,
        ReceiptHandle: receiptHandle,
        VisibilityTimeout: seconds,
      }),
    );
  }
}
