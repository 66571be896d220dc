import type { SQSClient } from '@aws-sdk/client-sqs';
import { SendMessageBatchCommand, SendMessageCommand } from '@aws-sdk/client-sqs';
import { describe, expect, it } from 'vitest';
import type { CheckQueueMessage } from '../../functions/adapters/sqs-check-queue.js';
import { SqsCheckQueue } from '../../functions/adapters/sqs-check-queue.js';

const messages = (count: number): CheckQueueMessage[] =>
  Array.from({ length: count }, (_, index) => ({
    body: `{"number":"PO-${index}"}`,
    groupId: `org-${index % 3}`,
    deduplicationId: `dedup-${index}`,
  }));

/** An SQS stand-in answering each SendMessageBatch call with `answers` in turn (an Error is thrown). */
const fakeSqs = (answers: Array<{ Failed?: Array<{ Id?: string }> } | Error>) => {
  const calls: unknown[] = [];
  const client = {
    send: async (command: unknown) => {
      calls.push(command);
      const answer = answers.shift() ?? {};
      if (answer instanceof Error) throw answer;
      return answer;
    },
  } as unknown as Pick<SQSClient, 'send'>;
  return { client, calls };
};

describe('the check queue (SQS FIFO)', () => {
  it('sends ten a call and names, by position, each message not sent: refused, or in a failed call', async () => {
    const { client, calls } = fakeSqs([{}, { Failed: [{ Id: '3' }] }, new Error('socket hang up')]);
    const errors: string[] = [];
    const unsent = await new SqsCheckQueue(client, 'q').sendAll(messages(25), (e) => errors.push(e.message));
    expect(calls).toHaveLength(3);
    const second = calls[1] as SendMessageBatchCommand;
    expect(second).toBeInstanceOf(SendMessageBatchCommand);
    expect(second.input.Entries?.map((e) => e.MessageDeduplicationId)).toEqual(
      messages(20)
        .slice(10)
        .map((m) => m.deduplicationId),
    );
    expect(second.input.QueueUrl).toBe('q');
    expect(second.input.Entries?.[0]).toMatchObject({ Id: '0', MessageGroupId: 'org-1' });
    expect([...unsent].sort((a, b) => a - b)).toEqual([13, 20, 21, 22, 23, 24]);
    expect(errors).toEqual(['socket hang up']);
  });

  it('counts a whole chunk unsent when SQS names an entry it was not given', async () => {
    const { client } = fakeSqs([{ Failed: [{ Id: '12' }] }, {}]);
    const unsent = await new SqsCheckQueue(client, 'q').sendAll(messages(15), () => {});
    expect([...unsent].sort((a, b) => a - b)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
  });

  it("queues one check in its organisation's group, deduplicated by SQS", async () => {
    const { client, calls } = fakeSqs([{}]);
    const [message] = messages(1);
    if (!message) throw new Error('no message');
    await new SqsCheckQueue(client, 'https://sqs/checks.fifo').send(message);
    const sent = calls[0] as SendMessageCommand;
    expect(sent).toBeInstanceOf(SendMessageCommand);
    expect(sent.input).toEqual({
      QueueUrl: 'https://sqs/checks.fifo',
      MessageBody: message.body,
      MessageGroupId: 'org-0',
      MessageDeduplicationId: 'dedup-0',
    });
  });
});
