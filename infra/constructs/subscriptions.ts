import { fileURLToPath } from 'node:url';
import { Duration, RemovalPolicy, SecretValue } from 'aws-cdk-lib';
import type { IEventBus } from 'aws-cdk-lib/aws-events';
import { Rule } from 'aws-cdk-lib/aws-events';
import { LambdaFunction } from 'aws-cdk-lib/aws-events-targets';
import type { IGrantable } from 'aws-cdk-lib/aws-iam';
import type { IKey } from 'aws-cdk-lib/aws-kms';
import type { ISecret } from 'aws-cdk-lib/aws-secretsmanager';
import { Secret } from 'aws-cdk-lib/aws-secretsmanager';
import { Topic } from 'aws-cdk-lib/aws-sns';
import { EmailSubscription as SnsEmail } from 'aws-cdk-lib/aws-sns-subscriptions';
import type { Queue } from 'aws-cdk-lib/aws-sqs';
import { NagSuppressions } from 'cdk-nag';
import { Construct } from 'constructs';
import type { DetailType } from '../../functions/core/events/catalogue.js';
import { carriesStage } from '../../functions/core/events/catalogue.js';
import type { ChannelName } from '../../functions/messages/channels.js';
import { CHANNELS } from '../../functions/messages/channels.js';
import { deadLetterQueue } from './dead-letter-queue.js';
import { NotifierFunction } from './notifier-function.js';

/** Which events a subscription gets: detail-types, and optionally only some stage names. */
export interface SubscriptionFilter {
  /** None: the channel's default (functions/messages/channels.ts). */
  detailTypes: readonly DetailType[];
  /** Limits the events that carry a stage (e.g. ["Sewing", "Packing"]) to these stage names. */
  stageNames?: string[];
}

/** A channel's subscription: its notify function and rules, and its target, where the digest goes too. */
export interface ChannelSubscription extends Construct {
  readonly channel: ChannelName;
  /** The ARN of the channel's target (functions/messages/channels.ts): Slack's secret, the email topic. */
  readonly targetArn: string;
  readonly function: NotifierFunction;
  readonly deadLetterQueue: Queue;
  readonly rules: Rule[];
  /** Lets a function send on this channel (read the secret, publish to the topic). */
  grantSend(grantee: IGrantable): void;
}

const NOTIFY_ENTRY = fileURLToPath(new URL('../../functions/handlers/notify.ts', import.meta.url));

interface NotifyChannelProps extends SubscriptionFilter {
  bus: IEventBus;
  source: string;
  channel: ChannelName;
  targetArn: string;
}

/**
 * A channel: the notify function (functions/handlers/notify.ts) words each event and delivers it; the rules
 * send it the channel's events. Undeliverable events end in one dead-letter queue, from the rule (the
 * function could not be invoked) or from the function (it failed after Lambda's async retries).
 */
class NotifyChannel extends Construct {
  readonly function: NotifierFunction;
  readonly deadLetterQueue: Queue;
  readonly rules: Rule[];

  constructor(scope: Construct, id: string, props: NotifyChannelProps) {
    super(scope, id);
    this.deadLetterQueue = deadLetterQueue(this, 'DeadLetters', 'the notify function and its rules');
    this.function = new NotifierFunction(this, 'Function', {
      entry: NOTIFY_ENTRY,
      description: `Words notifier events and delivers them to ${props.channel}`,
      memorySize: 256,
      timeout: Duration.seconds(60),
      environment: {
        NOTIFY_CHANNEL: props.channel,
        [CHANNELS[props.channel].target.notifyVariable]: props.targetArn,
      },
      deadLetterQueue: this.deadLetterQueue,
      retryAttempts: 2,
      maxEventAge: Duration.hours(6),
      logGroupRemovalPolicy: RemovalPolicy.DESTROY,
    });
    const detailTypes = props.detailTypes.length
      ? props.detailTypes
      : CHANNELS[props.channel].defaultDetailTypes;
    // A stage-name filter only applies to events that carry a stage; the others get a rule of their own.
    const staged = props.stageNames?.length ? detailTypes.filter(carriesStage) : [];
    const plain = detailTypes.filter((t) => !staged.includes(t));
    const rule = (ruleId: string, types: DetailType[], detail?: Record<string, unknown>) =>
      new Rule(this, ruleId, {
        eventBus: props.bus,
        description: `${types.join(', ')} to ${props.channel}`,
        eventPattern: { source: [props.source], detailType: types, ...(detail ? { detail } : {}) },
        targets: [
          new LambdaFunction(this.function, {
            deadLetterQueue: this.deadLetterQueue,
            retryAttempts: 20,
            maxEventAge: Duration.hours(6),
          }),
        ],
      });
    this.rules = [
      ...(plain.length ? [rule('Rule', plain)] : []),
      ...(staged.length ? [rule('StageRule', staged, { stage: { name: props.stageNames } })] : []),
    ];
  }
}

export interface SlackSubscriptionProps extends SubscriptionFilter {
  bus: IEventBus;
  source: string;
  /** An existing secret holding the incoming-webhook URL (preferred: the URL stays out of the template). */
  webhookSecretArn?: string;
  /** The URL itself: stored in the secret the stack creates, but then also in the template. */
  webhookUrl?: string;
}

/** Slack: Block Kit messages to an incoming webhook whose URL is kept in Secrets Manager. */
export class SlackSubscription extends Construct implements ChannelSubscription {
  readonly channel = 'slack';
  readonly secret: ISecret;
  readonly targetArn: string;
  readonly function: NotifierFunction;
  readonly deadLetterQueue: Queue;
  readonly rules: Rule[];

  constructor(scope: Construct, id: string, props: SlackSubscriptionProps) {
    super(scope, id);
    if (props.webhookSecretArn) {
      this.secret = Secret.fromSecretCompleteArn(this, 'Webhook', props.webhookSecretArn);
    } else {
      const secret = new Secret(this, 'Webhook', {
        description: 'Slack incoming-webhook URL (https://hooks.slack.com/services/...)',
        ...(props.webhookUrl
          ? { secretStringValue: SecretValue.unsafePlainText(props.webhookUrl) }
          : // A placeholder until the URL is put: the notify function then says what is missing.
            { generateSecretString: { excludePunctuation: true, passwordLength: 16 } }),
      });
      NagSuppressions.addResourceSuppressions(secret, [
        {
          id: 'AwsSolutions-SMG4',
          reason:
            'A Slack webhook URL is issued by Slack and cannot be rotated from AWS; replace it in Slack.',
        },
      ]);
      this.secret = secret;
    }
    this.targetArn = this.secret.secretArn;
    const channel = new NotifyChannel(this, 'Notify', {
      ...props,
      channel: this.channel,
      targetArn: this.targetArn,
    });
    this.grantSend(channel.function);
    this.function = channel.function;
    this.deadLetterQueue = channel.deadLetterQueue;
    this.rules = channel.rules;
  }

  grantSend(grantee: IGrantable): void {
    this.secret.grantRead(grantee);
  }
}

export interface EmailSubscriptionProps extends SubscriptionFilter {
  bus: IEventBus;
  source: string;
  addresses: string[];
  key: IKey;
}

/** Email: an SNS topic with a subscription per address; the notify function publishes subject and text. */
export class EmailSubscription extends Construct implements ChannelSubscription {
  readonly channel = 'email';
  readonly topic: Topic;
  readonly targetArn: string;
  readonly function: NotifierFunction;
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
    this.targetArn = this.topic.topicArn;
    const channel = new NotifyChannel(this, 'Notify', {
      ...props,
      channel: this.channel,
      targetArn: this.targetArn,
    });
    this.grantSend(channel.function);
    NagSuppressions.addResourceSuppressions(
      channel.function,
      [
        {
          id: 'AwsSolutions-IAM5',
          reason:
            'Publishing to the encrypted topic needs kms:GenerateDataKey* on its key (what Topic.grantPublish grants); on that key only.',
          appliesTo: ['Action::kms:GenerateDataKey*'],
        },
      ],
      true,
    );
    this.function = channel.function;
    this.deadLetterQueue = channel.deadLetterQueue;
    this.rules = channel.rules;
  }

  grantSend(grantee: IGrantable): void {
    this.topic.grantPublish(grantee);
  }
}
