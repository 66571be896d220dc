import { writeSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { DeleteMessageCommand, ReceiveMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import type { Context, SQSRecord } from 'aws-lambda';
import { awsClient } from '../functions/runtime/clients.js';

/**
 * One Lambda for bench/fanout.ts, in a process of its own, as Lambda runs it: `dispatch` invokes the
 * dispatcher once with the schedule's input; `work` is one poll worker instance behind the SQS event
 * source (long-polls the local queue, one message per invocation, deletes it unless reported failed).
 * The handlers' own output (Powertools logs and metrics) is counted, not shown; results go to fd 3.
 */
const env = process.env;
const mode = process.argv[2];
const report = (value: unknown) => writeSync(3, `${JSON.stringify(value)}\n`);
process.on('uncaughtException', (error) => {
  report({ crash: String(error.stack ?? error) });
  process.exit(1);
});

let logBytes = 0;
const counted = ((chunk: unknown) => {
  logBytes += Buffer.byteLength(String(chunk));
  return true;
}) as typeof process.stdout.write;
process.stdout.write = counted;
process.stderr.write = counted;

const context = (timeoutMs: number): Context => {
  const started = Date.now();
  return {
    awsRequestId: `bench-${process.pid}-${started}`,
    functionName: `bench-${mode}`,
    functionVersion: '$LATEST',
    invokedFunctionArn: `arn:aws:lambda:us-east-1:123456789012:function:bench-${mode}`,
    memoryLimitInMB: '512',
    logGroupName: `/aws/lambda/bench-${mode}`,
    logStreamName: 'bench',
    callbackWaitsForEmptyEventLoop: false,
    getRemainingTimeInMillis: () => timeoutMs - (Date.now() - started),
  } as unknown as Context;
};

if (mode === 'dispatch') {
  const { handler } = await import('../functions/handlers/dispatch.js');
  logBytes = 0;
  const started = performance.now();
  const result = await handler({ scheduledTime: env.BENCH_SCHEDULED_TIME }, context(60_000));
  report({ wallMs: performance.now() - started, logBytes, result });
  process.exit(0);
}

const { handler } = await import('../functions/handlers/poll-worker.js');
const queueUrl = env.POLL_QUEUE_URL as string;
const timeoutMs = Number(env.BENCH_WORKER_TIMEOUT_MS ?? 240_000);
// As the functions build theirs (the endpoint from AWS_ENDPOINT_URL_SQS).
const client = awsClient(SQSClient);
let stopping = false;
process.on('SIGTERM', () => {
  stopping = true;
});
report({ ready: true });
while (!stopping) {
  const out = await client.send(
    new ReceiveMessageCommand({
      QueueUrl: queueUrl,
      MaxNumberOfMessages: 1,
      WaitTimeSeconds: 1,
      VisibilityTimeout: timeoutMs / 1000 + 30,
    }),
  );
  const message = out.Messages?.[0];
  if (!message) continue;
  const record: SQSRecord = {
    messageId: message.MessageId ?? '',
    receiptHandle: message.ReceiptHandle ?? '',
    body: message.Body ?? '',
    attributes: {
      ApproximateReceiveCount: message.Attributes?.ApproximateReceiveCount ?? '1',
      SentTimestamp: message.Attributes?.SentTimestamp ?? '0',
      SenderId: 'AIDALOCAL',
      ApproximateFirstReceiveTimestamp: message.Attributes?.ApproximateFirstReceiveTimestamp ?? '0',
    },
    messageAttributes: {},
    md5OfBody: message.MD5OfBody ?? '',
    eventSource: 'aws:sqs',
    eventSourceARN: 'arn:aws:sqs:us-east-1:123456789012:poll.fifo',
    awsRegion: 'us-east-1',
  };
  logBytes = 0;
  const startedAt = Date.now();
  const started = performance.now();
  const result = await handler({ Records: [record] }, context(timeoutMs));
  const wallMs = performance.now() - started;
  if (!result.batchItemFailures.some((f) => f.itemIdentifier === record.messageId))
    await client.send(new DeleteMessageCommand({ QueueUrl: queueUrl, ReceiptHandle: record.receiptHandle }));
  for (const r of result.results)
    report({
      organisationId: r.organisationId,
      outcome: r.outcome,
      startedAt,
      finishedAt: Date.now(),
      wallMs,
      logBytes,
      usage: r.usage,
      events: r.report?.events ?? 0,
      baseline: r.report?.baseline ?? false,
      error: r.error,
    });
}
process.exit(0);
