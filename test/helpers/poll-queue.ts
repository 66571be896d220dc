import { DeleteMessageCommand, ReceiveMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import type { Context, SQSEvent, SQSRecord } from 'aws-lambda';
import type { CredentialsReference } from '../../functions/fanout/message.js';
import { pollMessageBody } from '../../functions/fanout/message.js';
import type { PollWorkerResult } from '../../functions/handlers/poll-worker.js';

/** The poll queue's URL on the local SQS endpoint (the SDK sends to the URL's host). */
export const pollQueueUrl = (sqsUrl: string) => `${sqsUrl}/123456789012/poll.fifo`;

/** One SQS record as Lambda's SQS event source delivers it. */
export const sqsRecord = (
  body: string,
  fields: { messageId?: string; receiptHandle?: string; receiveCount?: number; groupId?: string } = {},
): SQSRecord => ({
  messageId: fields.messageId ?? `m-${Math.random().toString(16).slice(2)}`,
  receiptHandle: fields.receiptHandle ?? `r-${Math.random().toString(16).slice(2)}`,
  body,
  attributes: {
    ApproximateReceiveCount: String(fields.receiveCount ?? 1),
    SentTimestamp: String(Date.now()),
    SenderId: 'AIDALOCAL',
    ApproximateFirstReceiveTimestamp: String(Date.now()),
    ...(fields.groupId ? { MessageGroupId: fields.groupId } : {}),
  },
  messageAttributes: {},
  md5OfBody: '',
  eventSource: 'aws:sqs',
  eventSourceARN: 'arn:aws:sqs:us-east-1:123456789012:poll.fifo',
  awsRegion: 'us-east-1',
});

/** A poll worker event for one organisation's period (default: the unnamed organisation, now). */
export const pollEvent = (
  organisationId: number | null = null,
  scheduledAt = Date.now(),
  credentials: CredentialsReference = 'auto',
): SQSEvent => ({
  Records: [sqsRecord(pollMessageBody({ v: 1, organisationId, credentials, scheduledAt }))],
});

type WorkerHandler = (event: SQSEvent, context: Context) => Promise<PollWorkerResult>;

/**
 * Drains the local poll queue as Lambda's SQS event source does with batch size 1: receive one message,
 * invoke the worker with it, delete it unless the worker reported it failed (it then comes back after its
 * visibility). Stops when no message is available; returns every invocation's results.
 */
export const drainPollQueue = async (
  sqsUrl: string,
  handler: WorkerHandler,
  context: () => Context,
): Promise<PollWorkerResult['results']> => {
  const client = new SQSClient({
    region: 'us-east-1',
    endpoint: sqsUrl,
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
  });
  const queueUrl = pollQueueUrl(sqsUrl);
  const results: PollWorkerResult['results'] = [];
  for (;;) {
    const out = await client.send(
      new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: 1, VisibilityTimeout: 270 }),
    );
    const message = out.Messages?.[0];
    if (!message) break;
    const record = sqsRecord(message.Body ?? '', {
      messageId: message.MessageId,
      receiptHandle: message.ReceiptHandle,
      groupId: message.Attributes?.MessageGroupId,
    });
    const result = await handler({ Records: [record] }, context());
    results.push(...result.results);
    if (!result.batchItemFailures.some((f) => f.itemIdentifier === record.messageId))
      await client.send(
        new DeleteMessageCommand({ QueueUrl: queueUrl, ReceiptHandle: message.ReceiptHandle }),
      );
  }
  client.destroy();
  return results;
};
