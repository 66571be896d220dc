import type { SQSClient } from '@aws-sdk/client-sqs';
import { SendMessageBatchCommand, SendMessageCommand } from '@aws-sdk/client-sqs';
import type { FifoMessage } from './sqs-fifo.js';
import { fifoFields, SEND_BATCH_SIZE } from './sqs-fifo.js';

/** A check message as the queue takes it (webhook/message.ts builds them). */
export type CheckQueueMessage = FifoMessage;

/**
 * The check queue (FIFO): the webhook function queues one check, the check function fans a check out to
 * each organisation's group. No retry here: what is not sent is reported, and its sender's own retry (the
 * webhook's caller, the check batch handed back) sends it again, deduplicated by SQS.
 */
export class SqsCheckQueue {
  constructor(
    private readonly client: Pick<SQSClient, 'send'>,
    private readonly queueUrl: string,
  ) {}

  async send(message: CheckQueueMessage): Promise<void> {
    await this.client.send(new SendMessageCommand({ QueueUrl: this.queueUrl, ...fifoFields(message) }));
  }

  /**
   * Sends ten a call. Returns the positions (in `messages`) of those not sent: refused by SQS, or in a
   * call that failed (its error given to `onError`).
   */
  async sendAll(
    messages: readonly CheckQueueMessage[],
    onError: (error: Error) => void,
  ): Promise<Set<number>> {
    const unsent = new Set<number>();
    for (let start = 0; start < messages.length; start += SEND_BATCH_SIZE) {
      const chunk = messages.slice(start, start + SEND_BATCH_SIZE);
      const chunkUnsent = () => {
        for (let index = 0; index < chunk.length; index++) unsent.add(start + index);
      };
      try {
        const sent = await this.client.send(
          new SendMessageBatchCommand({
            QueueUrl: this.queueUrl,
            Entries: chunk.map((message, index) => ({ Id: String(index), ...fifoFields(message) })),
          }),
        );
        for (const refused of sent.Failed ?? []) {
          const index = Number(refused.Id);
          // An id this call did not give would name another message: the whole chunk counts as unsent.
          if (Number.isInteger(index) && index >= 0 && index < chunk.length) unsent.add(start + index);
          else chunkUnsent();
        }
      } catch (error) {
        onError(error as Error);
        chunkUnsent();
      }
    }
    return unsent;
  }
}
