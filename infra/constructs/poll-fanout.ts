import type { RemovalPolicy } from 'aws-cdk-lib';
import { Duration } from 'aws-cdk-lib';
import type { ITable } from 'aws-cdk-lib/aws-dynamodb';
import { PolicyStatement } from 'aws-cdk-lib/aws-iam';
import { SqsEventSource } from 'aws-cdk-lib/aws-lambda-event-sources';
import {
  ContextAttribute,
  Schedule,
  ScheduleExpression,
  ScheduleTargetInput,
} from 'aws-cdk-lib/aws-scheduler';
import { LambdaInvoke } from 'aws-cdk-lib/aws-scheduler-targets';
import { Queue, QueueEncryption } from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { pollTimeoutSeconds } from '../../functions/shared/lambda-times.js';
import { deadLetterQueue } from './dead-letter-queue.js';
import { NotifierFunction } from './notifier-function.js';

export interface PollFanOutProps {
  scheduleMinutes: number;
  /** Poll workers at most at once (the event source's maximum concurrency, 2 to 1,000). */
  workerConcurrency: number;
  /** An organisation without a completed cycle for this many periods is counted stale. */
  heartbeatIntervals: number;
  /** What the worker runs cycles with (table, bus, credentials, signal settings): the check function's too. */
  cycleEnvironment: Record<string, string>;
  /** The deployment's organisationIds ("35802,35803"): polled with the registry's. */
  organisationIds: string | undefined;
  table: ITable;
  secretArn: string;
  dispatchEntry: string;
  workerEntry: string;
  removalPolicy: RemovalPolicy;
}

/**
 * Organisations fanned out: the schedule invokes the dispatcher, which queues one message per organisation
 * on a FIFO queue (the message group is the organisation's credentials, so organisations on one set of
 * credentials run in turn and the others side by side); the poll worker takes one message at a time (batch
 * size 1, up to `workerConcurrency` at once) and runs that organisation's cycle with its whole timeout.
 * Messages that keep coming back (a lease held) go to a dead-letter queue, alarmed by the stack.
 */
export class PollFanOut extends Construct {
  readonly dispatcher: NotifierFunction;
  readonly worker: NotifierFunction;
  readonly queue: Queue;
  readonly deadLetterQueue: Queue;
  readonly schedule: Schedule;

  constructor(scope: Construct, id: string, props: PollFanOutProps) {
    super(scope, id);
    const { workerConcurrency } = props;
    if (!Number.isInteger(workerConcurrency) || workerConcurrency < 2 || workerConcurrency > 1000)
      throw new Error(
        `workerConcurrency must be a whole number from 2 to 1000 (SQS event sources allow no fewer), got ${workerConcurrency}`,
      );
    const period = Duration.minutes(props.scheduleMinutes);
    // A minute short of the period: a cycle the timeout killed leaves a lease that has expired before
    // its organisation's next message (functions/shared/lambda-times.ts, pollTimeoutSeconds).
    const workerTimeout = Duration.seconds(pollTimeoutSeconds(props.scheduleMinutes));

    this.deadLetterQueue = deadLetterQueue(this, 'DeadLetters', 'the poll queue', { fifo: true });
    this.queue = new Queue(this, 'Queue', {
      fifo: true,
      // The dispatcher sets one deduplication id per organisation and period.
      contentBasedDeduplication: false,
      encryption: QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      // Beyond the worker's timeout: a message is never handed to a second worker while a first still
      // runs it; one whose worker was killed comes back once that worker's lease has expired.
      visibilityTimeout: workerTimeout.plus(Duration.seconds(30)),
      // Older messages are superseded by the next periods' anyway.
      retentionPeriod: Duration.days(1),
      // A lease-held message comes back every 30 s: ten tries span a held lease of about five minutes.
      deadLetterQueue: { queue: this.deadLetterQueue, maxReceiveCount: 10 },
    });

    this.dispatcher = new NotifierFunction(this, 'Dispatcher', {
      entry: props.dispatchEntry,
      description:
        'Queues one poll message per Uphance organisation each period (the registry and the deployment’s list)',
      memorySize: 256,
      timeout: Duration.seconds(60),
      // A failed dispatch is retried with the same scheduled time: SQS deduplicates what was already queued.
      retryAttempts: 2,
      maxEventAge: period,
      logGroupRemovalPolicy: props.removalPolicy,
      environment: {
        TABLE_NAME: props.table.tableName,
        UPHANCE_SECRET_ARN: props.secretArn,
        POLL_QUEUE_URL: this.queue.queueUrl,
        SCHEDULE_MINUTES: String(props.scheduleMinutes),
        HEARTBEAT_INTERVALS: String(props.heartbeatIntervals),
        ...(props.organisationIds ? { UPHANCE_ORGANISATION_ID: props.organisationIds } : {}),
      },
    });
    // Reads the registry and the run records; writes the seed and first-dispatch times only: the
    // registry's and the run records' partitions, never a state (org#...) nor a lease (cred#...).
    this.dispatcher.addToRolePolicy(
      new PolicyStatement({
        actions: ['dynamodb:Query', 'dynamodb:PutItem', 'dynamodb:UpdateItem'],
        resources: [props.table.tableArn],
        conditions: {
          'ForAllValues:StringEquals': { 'dynamodb:LeadingKeys': ['registry', 'fanout'] },
          Null: { 'dynamodb:LeadingKeys': 'false' },
        },
      }),
    );
    this.queue.grantSendMessages(this.dispatcher);

    this.worker = new NotifierFunction(this, 'Worker', {
      entry: props.workerEntry,
      description:
        'Polls one Uphance organisation’s production orders per queue message and puts change events on the bus',
      // 512 MB: the cycle holds the watched orders (not the account) in memory; more memory also buys CPU
      // for parsing pages, which keeps the cycle's local overhead small next to Uphance's latency.
      memorySize: 512,
      timeout: workerTimeout,
      logGroupRemovalPolicy: props.removalPolicy,
      environment: {
        ...props.cycleEnvironment,
        POLL_QUEUE_URL: this.queue.queueUrl,
        CYCLE_BUDGET_SECONDS: String(Math.max(10, workerTimeout.toSeconds() - 55)),
      },
    });
    // A lease-held message is made visible again sooner than the visibility timeout.
    this.queue.grant(this.worker, 'sqs:ChangeMessageVisibility');
    this.worker.addEventSource(
      new SqsEventSource(this.queue, {
        batchSize: 1,
        maxConcurrency: workerConcurrency,
        reportBatchItemFailures: true,
      }),
    );

    this.schedule = new Schedule(this, 'Schedule', {
      description: `Queues a poll of every organisation every ${props.scheduleMinutes} minutes`,
      schedule: ScheduleExpression.rate(period),
      target: new LambdaInvoke(this.dispatcher, {
        // The period's scheduled time, the same in every retry: messages carry it (deduplication, and
        // the worker drops a message a later cycle has covered).
        input: ScheduleTargetInput.fromObject({ scheduledTime: ContextAttribute.scheduledTime }),
        retryAttempts: 2,
        maxEventAge: period,
      }),
    });
  }
}
