import { Duration } from 'aws-cdk-lib';
import { Queue, QueueEncryption } from 'aws-cdk-lib/aws-sqs';
import { NagSuppressions } from 'cdk-nag';
import type { Construct } from 'constructs';

/**
 * The stack's one kind of dead-letter queue: encrypted, TLS only, 14 days' retention. It has no dead-letter
 * queue of its own (cdk-nag's SQS3), which `of` states for the record.
 */
export const deadLetterQueue = (
  scope: Construct,
  id: string,
  of: string,
  options: { fifo?: boolean } = {},
) => {
  const queue = new Queue(scope, id, {
    ...(options.fifo ? { fifo: true } : {}),
    encryption: QueueEncryption.SQS_MANAGED,
    enforceSSL: true,
    retentionPeriod: Duration.days(14),
  });
  NagSuppressions.addResourceSuppressions(queue, [
    { id: 'AwsSolutions-SQS3', reason: `This queue is itself the dead-letter queue of ${of}.` },
  ]);
  return queue;
};
