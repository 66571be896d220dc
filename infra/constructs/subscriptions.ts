import { Duration, SecretValue } from 'aws-cdk-lib';
import type { IEventBus, RuleProps } from 'aws-cdk-lib/aws-events';
import {
  ApiDestination,
  Authorization,
  Connection,
  EventField,
  HttpMethod,
  Rule,
  RuleTargetInput,
} from 'aws-cdk-lib/aws-events';
import { ApiDestination as ApiDestinationTarget, SnsTopic } from 'aws-cdk-lib/aws-events-targets';
import type { IKey } from 'aws-cdk-lib/aws-kms';
import { Topic } from 'aws-cdk-lib/aws-sns';
import { EmailSubscription as SnsEmail } from 'aws-cdk-lib/aws-sns-subscriptions';
import { Queue, QueueEncryption } from 'aws-cdk-lib/aws-sqs';
import { NagSuppressions } from 'cdk-nag';
import { Construct } from 'constructs';
import type { DetailType } from '../../functions/core/events/catalogue.js';

/** Which events a subscription gets: detail-types, and optionally only some stage names. */
export interface SubscriptionFilter {
  detailTypes: DetailType[];
  /** Limits StageStarted/StageCompleted to these stage names (e.g. ["Sewing", "Packing"]). */
  stageNames?: string[];
}

const f = (path: string) => EventField.fromPath(`$.detail.${path}`);
const head = () => `PO ${f('order.number')} · ${f('order.companyName')}`;

/** One readable line per detail-type, e.g. "PO 1308 · Tribal Sportswear Inc. · Sewing completed · 3465O-3206 Lt. Peach". */
export const messageFor = (type: DetailType): string => {
  switch (type) {
    case 'StageCompleted':
      return `${head()} · ${f('stage.name')} completed · ${f('lineItem.productName')} ${f('lineItem.color')}`;
    case 'StageStarted':
      return `${head()} · ${f('stage.name')} started · ${f('lineItem.productName')} ${f('lineItem.color')}`;
    case 'OrderStatusChanged':
      return `${head()} · status ${f('change.from')} → ${f('change.to')}`;
    case 'OrderDeliveryStatusChanged':
      return `${head()} · delivery ${f('change.from')} → ${f('change.to')}`;
    case 'OrderAllReceived':
      return `${head()} · all received`;
    case 'OrderDueDateChanged':
      return `${head()} · due date ${f('change.from')} → ${f('change.to')}`;
    case 'OrderCreated':
      return `${head()} · new order (${f('order.status')})`;
    case 'OrderRemoved':
      return `${head()} · removed from Uphance`;
  }
};

const deadLetterQueue = (scope: Construct) => {
  const queue = new Queue(scope, 'DeadLetters', {
    encryption: QueueEncryption.SQS_MANAGED,
    enforceSSL: true,
    retentionPeriod: Duration.days(14),
  });
  NagSuppressions.addResourceSuppressions(queue, [
    {
      id: 'AwsSolutions-SQS3',
      reason: 'This queue is itself the dead-letter queue of the subscription rules.',
    },
  ]);
  return queue;
};

/** One rule per detail-type (each needs its own message), all feeding the same target. */
const rulesFor = (
  scope: Construct,
  bus: IEventBus,
  source: string,
  filter: SubscriptionFilter,
  target: (message: string) => RuleProps['targets'],
) =>
  filter.detailTypes.map(
    (type) =>
      new Rule(scope, `${type}Rule`, {
        eventBus: bus,
        description: `${type} events to ${scope.node.id}`,
        eventPattern: {
          source: [source],
          detailType: [type],
          ...(filter.stageNames?.length && (type === 'StageCompleted' || type === 'StageStarted')
            ? { detail: { stage: { name: filter.stageNames } } }
            : {}),
        },
        targets: target(messageFor(type)),
      }),
  );

export interface SlackSubscriptionProps extends SubscriptionFilter {
  bus: IEventBus;
  source: string;
  /** A Slack incoming-webhook URL (https://hooks.slack.com/services/...). */
  webhookUrl: string;
}

/** Slack through an EventBridge API destination: a readable message per event, retried, with a DLQ. */
export class SlackSubscription extends Construct {
  readonly deadLetterQueue: Queue;
  readonly rules: Rule[];

  constructor(scope: Construct, id: string, props: SlackSubscriptionProps) {
    super(scope, id);
    // Incoming webhooks carry their secret in the URL; a connection still needs an authorization.
    const connection = new Connection(this, 'Connection', {
      authorization: Authorization.apiKey('x-uphance-notifier', SecretValue.unsafePlainText('slack-webhook')),
      description: 'Slack incoming webhook (authorised by its URL)',
    });
    const destination = new ApiDestination(this, 'Destination', {
      connection,
      endpoint: props.webhookUrl,
      httpMethod: HttpMethod.POST,
      rateLimitPerSecond: 1,
      description: 'Slack incoming webhook',
    });
    this.deadLetterQueue = deadLetterQueue(this);
    this.rules = rulesFor(this, props.bus, props.source, props, (message) => [
      new ApiDestinationTarget(destination, {
        event: RuleTargetInput.fromObject({ text: message }),
        deadLetterQueue: this.deadLetterQueue,
        retryAttempts: 20,
        maxEventAge: Duration.hours(6),
      }),
    ]);
  }
}

export interface EmailSubscriptionProps extends SubscriptionFilter {
  bus: IEventBus;
  source: string;
  addresses: string[];
  key: IKey;
}

/** Email through an SNS topic with a subscription per address: a readable line per event, with a DLQ. */
export class EmailSubscription extends Construct {
  readonly topic: Topic;
  readonly deadLetterQueue: Queue;
  readonly rules: Rule[];

  constructor(scope: Construct, id: string, props: EmailSubscriptionProps) {
    super(scope, id);
    this.topic = new Topic(this, 'Topic', {
      displayName: 'Uphance production orders',
      masterKey: props.key,
      enforceSSL: true,
    });
    for (const address of props.addresses) this.topic.addSubscription(new SnsEmail(address));
    this.deadLetterQueue = deadLetterQueue(this);
    this.rules = rulesFor(this, props.bus, props.source, props, (message) => [
      new SnsTopic(this.topic, {
        message: RuleTargetInput.fromText(message),
        deadLetterQueue: this.deadLetterQueue,
        retryAttempts: 20,
        maxEventAge: Duration.hours(6),
      }),
    ]);
  }
}
