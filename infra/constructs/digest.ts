import type { RemovalPolicy } from 'aws-cdk-lib';
import { Duration, TimeZone } from 'aws-cdk-lib';
import { Alarm, ComparisonOperator, TreatMissingData } from 'aws-cdk-lib/aws-cloudwatch';
import { SnsAction } from 'aws-cdk-lib/aws-cloudwatch-actions';
import type { ITable } from 'aws-cdk-lib/aws-dynamodb';
import { PolicyStatement } from 'aws-cdk-lib/aws-iam';
import { SqsDestination } from 'aws-cdk-lib/aws-lambda-destinations';
import {
  ContextAttribute,
  Schedule,
  ScheduleExpression,
  ScheduleTargetInput,
} from 'aws-cdk-lib/aws-scheduler';
import { LambdaInvoke } from 'aws-cdk-lib/aws-scheduler-targets';
import type { ITopic } from 'aws-cdk-lib/aws-sns';
import type { Queue } from 'aws-cdk-lib/aws-sqs';
import { NagSuppressions } from 'cdk-nag';
import { Construct } from 'constructs';
import { MARKER_ATTRIBUTES, markerKey } from '../../functions/digest/marker.js';
import { CHANNELS } from '../../functions/messages/channels.js';
import { deadLetterQueue } from './dead-letter-queue.js';
import { NotifierFunction } from './notifier-function.js';
import type { ChannelSubscription } from './subscriptions.js';

export interface DigestProps {
  entry: string;
  table: ITable;
  /** Hour of the day (0-23) in `timeZone` at which the digest is sent. */
  hour: number;
  /** IANA time zone of the schedule and of the digest's calendar days. */
  timeZone: string;
  whenEmpty: boolean;
  /** The production signals' settings (DUE_SOON_DAYS, STALL_DAYS...): the digest calls an order due soon or a
   * stage stalled exactly when the events do. Its own `timeZone` wins for TIME_ZONE. */
  signalEnvironment: Record<string, string>;
  /** Every organisation polled ("35802,35803"): one digest each. */
  organisationIds?: string;
  /** The subscriptions it sends to, each at its channel's target (Slack's secret, the email topic). */
  channels: ChannelSubscription[];
  alarmTopic: ITopic;
  logGroupRemovalPolicy: RemovalPolicy;
}

/**
 * The daily digest: a function that reads the state table (never Uphance) and sends a summary to the Slack
 * and email subscriptions, invoked by an EventBridge Scheduler schedule at `hour` in `timeZone`, retried
 * twice, then dead-lettered; an alarm on its errors and on the dead letters.
 */
export class DigestSchedule extends Construct {
  readonly function: NotifierFunction;
  readonly schedule: Schedule;
  readonly deadLetterQueue: Queue;

  constructor(scope: Construct, id: string, props: DigestProps) {
    super(scope, id);
    if (!Number.isInteger(props.hour) || props.hour < 0 || props.hour > 23)
      throw new Error(`digestHour must be a whole hour from 0 to 23, got ${props.hour}`);
    this.deadLetterQueue = deadLetterQueue(this, 'DeadLetters', 'the digest schedule and function');
    this.function = new NotifierFunction(this, 'Function', {
      entry: props.entry,
      description: 'Sends the daily production digest (overdue, due soon, stalled, completed, received)',
      memorySize: 512,
      timeout: Duration.minutes(2),
      // The schedule invokes it asynchronously: a failed run (one organisation's send failed) is retried by
      // Lambda with the same payload, whose scheduled time makes the retry skip the digests already made;
      // then dead-lettered. (No reserved concurrency to serialise runs: a new account's minimum unreserved
      // concurrency would refuse the deployment.)
      retryAttempts: 2,
      maxEventAge: Duration.hours(2),
      onFailure: new SqsDestination(this.deadLetterQueue),
      logGroupRemovalPolicy: props.logGroupRemovalPolicy,
      environment: {
        ...props.signalEnvironment,
        TABLE_NAME: props.table.tableName,
        TIME_ZONE: props.timeZone,
        DIGEST_WHEN_EMPTY: String(props.whenEmpty),
        ...(props.organisationIds ? { UPHANCE_ORGANISATION_ID: props.organisationIds } : {}),
        // Each subscription's own target: the digest goes where its messages go.
        ...Object.fromEntries(
          props.channels.map((c) => [CHANNELS[c.channel].target.digestVariable, c.targetArn]),
        ),
      },
    });
    // Reads the state; writes only its markers: items of the marker's attributes in marker partitions
    // (digest#<state partition>, apart from every state: marker.ts), whatever organisations the registry
    // adds later and wherever their states are found.
    props.table.grant(this.function, 'dynamodb:GetItem', 'dynamodb:BatchGetItem', 'dynamodb:Query');
    this.function.addToRolePolicy(
      new PolicyStatement({
        actions: ['dynamodb:PutItem'],
        resources: [props.table.tableArn],
        conditions: {
          'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': [markerKey('*').pk] },
          'ForAllValues:StringEquals': { 'dynamodb:Attributes': [...MARKER_ATTRIBUTES] },
          // ForAllValues holds for a request without the key; a PutItem always has one, but say so.
          Null: { 'dynamodb:LeadingKeys': 'false' },
        },
      }),
    );
    for (const channel of props.channels) channel.grantSend(this.function);
    // Publishing to a topic also grants its key's data keys: SNS asks KMS for them on the publisher's behalf.
    if (props.channels.some((c) => CHANNELS[c.channel].target.resource === 'topic')) {
      if (this.function.role) {
        NagSuppressions.addResourceSuppressions(
          this.function.role,
          [
            {
              id: 'AwsSolutions-IAM5',
              reason:
                'Publishing to the KMS-encrypted email topic needs kms:GenerateDataKey* on the topic key only (granted by Topic.grantPublish).',
              appliesTo: ['Action::kms:GenerateDataKey*'],
            },
          ],
          true,
        );
      }
    }

    this.schedule = new Schedule(this, 'Schedule', {
      description: `Sends the production digest every day at ${props.hour}:00 (${props.timeZone})`,
      schedule: ScheduleExpression.cron({
        minute: '0',
        hour: String(props.hour),
        timeZone: TimeZone.of(props.timeZone),
      }),
      target: new LambdaInvoke(this.function, {
        // The run's scheduled time, the same in its retries: a retry never re-sends a digest already made.
        input: ScheduleTargetInput.fromObject({ scheduledTime: ContextAttribute.scheduledTime }),
        retryAttempts: 2,
        maxEventAge: Duration.hours(2),
        deadLetterQueue: this.deadLetterQueue,
      }),
    });

    const action = new SnsAction(props.alarmTopic);
    const errors = new Alarm(this, 'Errors', {
      alarmDescription: 'The production digest failed (see the digest function logs).',
      metric: this.function.metricErrors({ period: Duration.hours(1) }),
      threshold: 1,
      evaluationPeriods: 1,
      comparisonOperator: ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      treatMissingData: TreatMissingData.NOT_BREACHING,
    });
    errors.addAlarmAction(action);
    const deadLetters = new Alarm(this, 'DeadLettersAlarm', {
      alarmDescription: 'A scheduled digest could not be delivered to its function (dead-letter queue).',
      metric: this.deadLetterQueue.metricApproximateNumberOfMessagesVisible({ period: Duration.hours(1) }),
      threshold: 1,
      evaluationPeriods: 1,
      comparisonOperator: ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      treatMissingData: TreatMissingData.NOT_BREACHING,
    });
    deadLetters.addAlarmAction(action);
  }
}
