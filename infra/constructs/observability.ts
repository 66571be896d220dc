import { Duration } from 'aws-cdk-lib';
import type { IMetric } from 'aws-cdk-lib/aws-cloudwatch';
import {
  Alarm,
  ComparisonOperator,
  Dashboard,
  GraphWidget,
  Metric,
  SingleValueWidget,
  TreatMissingData,
} from 'aws-cdk-lib/aws-cloudwatch';
import { SnsAction } from 'aws-cdk-lib/aws-cloudwatch-actions';
import type { IKey } from 'aws-cdk-lib/aws-kms';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import { Topic } from 'aws-cdk-lib/aws-sns';
import { EmailSubscription } from 'aws-cdk-lib/aws-sns-subscriptions';
import type { IQueue } from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';

import {
  METRIC,
  METRICS_NAMESPACE,
  ORGANISATION_DIMENSION,
  SERVICE_NAME,
} from '../../functions/telemetry.js';

export interface ObservabilityProps {
  pollFunction: IFunction;
  scheduleMinutes: number;
  /** Alarm when no cycle completed for this many schedule intervals. */
  heartbeatIntervals: number;
  deadLetterQueues: Array<{ name: string; queue: IQueue }>;
  /** The functions that deliver Slack and email messages. */
  notifyFunctions?: Array<{ name: string; function: IFunction }>;
  alarmEmail?: string;
  key: IKey;
  /** Organisations polled: each gets its own failure and heartbeat alarms (dimension `organisation`). */
  organisationIds?: string[];
}

/** Alarms to an SNS topic, and a dashboard of what the poller does. */
export class Observability extends Construct {
  readonly alarmTopic: Topic;
  readonly alarms: Alarm[] = [];
  readonly dashboard: Dashboard;

  constructor(scope: Construct, id: string, props: ObservabilityProps) {
    super(scope, id);
    const period = Duration.minutes(props.scheduleMinutes);
    const metric = (metricName: string, statistic = 'Sum'): Metric =>
      new Metric({
        namespace: METRICS_NAMESPACE,
        metricName,
        dimensionsMap: { service: SERVICE_NAME },
        statistic,
        period,
      });

    this.alarmTopic = new Topic(this, 'AlarmTopic', {
      displayName: 'Uphance notifier alarms',
      masterKey: props.key,
      enforceSSL: true,
    });
    if (props.alarmEmail) this.alarmTopic.addSubscription(new EmailSubscription(props.alarmEmail));
    const action = new SnsAction(this.alarmTopic);
    const alarm = (name: string, spec: ConstructorParameters<typeof Alarm>[2]) => {
      const created = new Alarm(this, name, spec);
      created.addAlarmAction(action);
      created.addOkAction(action);
      this.alarms.push(created);
      return created;
    };

    alarm('PollErrors', {
      alarmDescription:
        'The poll function failed two cycles in a row (see its logs: API unreachable, credentials rejected, EventBridge refusing).',
      metric: props.pollFunction.metricErrors({ period }),
      threshold: 1,
      evaluationPeriods: 2,
      datapointsToAlarm: 2,
      comparisonOperator: ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      treatMissingData: TreatMissingData.NOT_BREACHING,
    });
    alarm('NoSuccessfulCycle', {
      alarmDescription: `No poll cycle completed for ${props.heartbeatIntervals} schedule intervals: changes are not being reported.`,
      metric: metric(METRIC.CycleCompleted),
      threshold: 1,
      evaluationPeriods: props.heartbeatIntervals,
      comparisonOperator: ComparisonOperator.LESS_THAN_THRESHOLD,
      treatMissingData: TreatMissingData.BREACHING,
    });
    alarm('PutEventsFailures', {
      alarmDescription:
        'EventBridge refused entries: the cycle retries them (same eventIds) but check the bus and quotas.',
      metric: metric(METRIC.PutEventsFailures),
      threshold: 1,
      evaluationPeriods: 1,
      comparisonOperator: ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      treatMissingData: TreatMissingData.NOT_BREACHING,
    });
    alarm('EventsSetAside', {
      alarmDescription:
        'The bus refused events for good (too large or malformed); they are kept in the state table. Fix the cause, then run `npx uphance-notifier resend --table <StateTableName> --event-bus <EventBusName>`.',
      metric: metric(METRIC.EventsSetAside),
      threshold: 1,
      evaluationPeriods: 1,
      comparisonOperator: ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      treatMissingData: TreatMissingData.NOT_BREACHING,
    });
    alarm('CommitReplayFailed', {
      alarmDescription:
        "A sealed commit could not be replayed (poll or check): it stays in the journal and its organisation's cycles fail until it goes through; nothing is lost. The function's log names the commit and what DynamoDB said; keep its journal items.",
      metric: metric(METRIC.CommitReplayFailed),
      threshold: 1,
      evaluationPeriods: 3,
      datapointsToAlarm: 2,
      comparisonOperator: ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      treatMissingData: TreatMissingData.NOT_BREACHING,
    });
    for (const { name, function: fn } of props.notifyFunctions ?? []) {
      alarm(`${name}NotifyErrors`, {
        alarmDescription: `Delivering to ${name} failed (see the notify function's logs); Lambda retries, then the dead-letter queue keeps the event.`,
        metric: fn.metricErrors({ period: Duration.minutes(5) }),
        threshold: 1,
        evaluationPeriods: 1,
        comparisonOperator: ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        treatMissingData: TreatMissingData.NOT_BREACHING,
      });
    }
    for (const { name, queue } of props.deadLetterQueues) {
      alarm(`${name}DeadLetters`, {
        alarmDescription: `Events for ${name} could not be delivered and wait in its dead-letter queue.`,
        metric: queue.metricApproximateNumberOfMessagesVisible({
          period: Duration.minutes(5),
          statistic: 'Maximum',
        }),
        threshold: 1,
        evaluationPeriods: 1,
        comparisonOperator: ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        treatMissingData: TreatMissingData.NOT_BREACHING,
      });
    }

    for (const organisation of props.organisationIds ?? []) {
      const own = (metricName: string) =>
        new Metric({
          namespace: METRICS_NAMESPACE,
          metricName,
          dimensionsMap: { service: SERVICE_NAME, [ORGANISATION_DIMENSION]: organisation },
          statistic: 'Sum',
          period,
        });
      alarm(`Organisation${organisation}CycleFailed`, {
        alarmDescription: `Organisation ${organisation}: two cycles in a row failed (credentials rejected, outage); the other organisations go on.`,
        metric: own(METRIC.CycleFailed),
        threshold: 1,
        evaluationPeriods: 2,
        datapointsToAlarm: 2,
        comparisonOperator: ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        treatMissingData: TreatMissingData.NOT_BREACHING,
      });
      alarm(`Organisation${organisation}NoSuccessfulCycle`, {
        alarmDescription: `Organisation ${organisation}: no cycle completed for ${props.heartbeatIntervals} schedule intervals.`,
        metric: own(METRIC.CycleCompleted),
        threshold: 1,
        evaluationPeriods: props.heartbeatIntervals,
        comparisonOperator: ComparisonOperator.LESS_THAN_THRESHOLD,
        treatMissingData: TreatMissingData.BREACHING,
      });
    }

    const graph = (title: string, left: IMetric[]) => new GraphWidget({ title, left, width: 8, height: 6 });
    this.dashboard = new Dashboard(this, 'Dashboard', { defaultInterval: Duration.days(1) });
    this.dashboard.addWidgets(
      new SingleValueWidget({
        title: 'Events emitted (24 h)',
        metrics: [metric(METRIC.EventsEmitted).with({ period: Duration.days(1) })],
        width: 6,
      }),
      new SingleValueWidget({
        title: 'Cycles completed (24 h)',
        metrics: [metric(METRIC.CycleCompleted).with({ period: Duration.days(1) })],
        width: 6,
      }),
      new SingleValueWidget({
        title: 'Poll errors (24 h)',
        metrics: [props.pollFunction.metricErrors({ period: Duration.days(1) })],
        width: 6,
      }),
      new SingleValueWidget({
        title: 'Malformed orders (24 h)',
        metrics: [metric(METRIC.MalformedOrders).with({ period: Duration.days(1) })],
        width: 6,
      }),
    );
    this.dashboard.addWidgets(
      graph('Events and changed orders', [metric(METRIC.EventsEmitted), metric(METRIC.OrdersChanged)]),
      graph('Uphance calls', [
        metric(METRIC.ApiCalls),
        metric(METRIC.ApiRetries),
        metric(METRIC.OrdersScanned),
      ]),
      graph('Cycle duration (ms)', [
        metric(METRIC.CycleDuration, 'Maximum'),
        metric(METRIC.CycleDuration, 'Average'),
      ]),
    );
    this.dashboard.addWidgets(
      graph('Failures', [
        props.pollFunction.metricErrors({ period }),
        metric(METRIC.PutEventsFailures),
        metric(METRIC.LeaseLost),
        metric(METRIC.CommitReplayFailed),
      ]),
      graph(
        'Dead letters',
        props.deadLetterQueues.map(({ queue }) =>
          queue.metricApproximateNumberOfMessagesVisible({ statistic: 'Maximum' }),
        ),
      ),
    );
  }
}
