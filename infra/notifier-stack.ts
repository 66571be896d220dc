import { fileURLToPath } from 'node:url';
import type { StackProps } from 'aws-cdk-lib';
import { CfnOutput, Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import { AttributeType, BillingMode, Table, TableEncryption } from 'aws-cdk-lib/aws-dynamodb';
import { Archive, EventBus } from 'aws-cdk-lib/aws-events';
import { PolicyStatement, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import { Key } from 'aws-cdk-lib/aws-kms';
import type { ISecret } from 'aws-cdk-lib/aws-secretsmanager';
import { Secret } from 'aws-cdk-lib/aws-secretsmanager';
import { NagSuppressions } from 'cdk-nag';
import type { Construct } from 'constructs';
import { DEFAULT_SOURCE } from '../functions/core/events/catalogue.js';
import { DigestSchedule } from './constructs/digest.js';
import { EventCatalogue } from './constructs/event-catalogue.js';
import { ExampleConsumer } from './constructs/example-consumer.js';
import type { NotifierFunction } from './constructs/notifier-function.js';
import { Observability } from './constructs/observability.js';
import { PollFanOut } from './constructs/poll-fanout.js';
import type { ChannelSubscription, SubscriptionFilter } from './constructs/subscriptions.js';
import { EmailSubscription, SlackSubscription } from './constructs/subscriptions.js';
import { WebhookTrigger } from './constructs/webhook-trigger.js';

const path = (relative: string) => fileURLToPath(new URL(relative, import.meta.url));

export interface NotifierStackProps extends StackProps {
  /** Minutes between poll cycles (default 5). */
  scheduleMinutes?: number;
  /** Days the bus archive keeps events for replay (default 30; 0 keeps them forever). */
  archiveRetentionDays?: number;
  /** An existing Secrets Manager secret with the Uphance credentials; otherwise the stack creates one. */
  uphanceSecretArn?: string;
  /** The customer-managed KMS key that encrypts that existing secret (not needed for aws/secretsmanager). */
  uphanceSecretKmsKeyArn?: string;
  uphanceApiUrl?: string;
  /**
   * Uphance organisations to poll, comma-separated ("35802,35803"), each with its own state; polled with
   * those registered as data (`uphance-notifier organisations add`), less those removed.
   */
  organisationIds?: string;
  /** Poll workers at most at once (2 to 1,000; default 10). */
  workerConcurrency?: number;
  /** Deploy the webhook trigger (HTTP API, check queue and functions; default true). */
  webhook?: boolean;
  eventSource?: string;
  sweepIntervalHours?: number;
  emitBaseline?: boolean;
  /** Slack: the webhook URL in an existing secret (webhookSecretArn), given here, or put later into the stack's secret. */
  slack?: SubscriptionFilter & { webhookUrl?: string; webhookSecretArn?: string };
  email?: SubscriptionFilter & { addresses: string[] };
  alarmEmail?: string;
  /** Alarm when no cycle completed for this many intervals (default 3). */
  heartbeatIntervals?: number;
  /** Deploy the example consumer Lambda (default false). */
  exampleConsumer?: boolean;
  /** Production signals (docs/contract.md sections 1b, 1c); absent values take the function's defaults (UTC, 7, 7, 1). */
  signals?: {
    timeZone?: string;
    dueSoonDays?: number;
    stallDays?: number;
    stallDaysByStage?: string;
    riskDays?: number;
  };
  /** Keep the state table and the secret when the stack is deleted (default true). */
  retainData?: boolean;
  /** Hour (0-23, in digestTimeZone) of the daily digest to the Slack and email subscriptions (default 7). */
  digestHour?: number;
  /** IANA time zone of the digest's schedule and calendar days (default the signals' timeZone, else UTC). */
  digestTimeZone?: string;
  /** Send the digest even when it has nothing to say (default false). */
  digestWhenEmpty?: boolean;
}

/** The signal settings as the poll function's environment (only those given). */
const signalEnvironment = (signals: NotifierStackProps['signals'] = {}): Record<string, string> => {
  const env: Record<string, string> = {};
  if (signals.timeZone) env.TIME_ZONE = signals.timeZone;
  if (signals.dueSoonDays !== undefined) env.DUE_SOON_DAYS = String(signals.dueSoonDays);
  if (signals.stallDays !== undefined) env.STALL_DAYS = String(signals.stallDays);
  if (signals.stallDaysByStage) env.STALL_DAYS_BY_STAGE = signals.stallDaysByStage;
  if (signals.riskDays !== undefined) env.RISK_DAYS = String(signals.riskDays);
  return env;
};

/**
 * The notifier: a schedule invokes the dispatcher, which queues one message per organisation for the poll
 * worker; the worker keeps each organisation's state in one DynamoDB table and puts typed events on a custom bus (archived for replay, described in a schema registry), with optional Slack
 * and email subscriptions, alarms and a dashboard.
 */
export class NotifierStack extends Stack {
  readonly table: Table;
  readonly bus: EventBus;
  readonly secret: ISecret;
  /** The poll worker: one organisation's cycle per queue message. */
  readonly pollWorker: NotifierFunction;
  /** The schedule's target: queues one poll message per organisation each period. */
  readonly dispatcher: NotifierFunction;
  /** The daily digest, when there is a Slack or email subscription to send it to. */
  readonly digest: DigestSchedule | undefined;

  constructor(scope: Construct, id: string, props: NotifierStackProps = {}) {
    super(scope, id, props);
    const scheduleMinutes = props.scheduleMinutes ?? 5;
    const source = props.eventSource ?? DEFAULT_SOURCE;
    const dataPolicy = props.retainData === false ? RemovalPolicy.DESTROY : RemovalPolicy.RETAIN;

    this.table = new Table(this, 'State', {
      partitionKey: { name: 'pk', type: AttributeType.STRING },
      sortKey: { name: 'sk', type: AttributeType.STRING },
      billingMode: BillingMode.PAY_PER_REQUEST,
      encryption: TableEncryption.AWS_MANAGED,
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      // Lease items carry a TTL so that abandoned ones disappear.
      timeToLiveAttribute: 'ttl',
      removalPolicy: dataPolicy,
    });

    this.bus = new EventBus(this, 'Bus', { description: 'Changes of Uphance production orders' });
    new Archive(this, 'Archive', {
      sourceEventBus: this.bus,
      eventPattern: { source: [source] },
      retention:
        props.archiveRetentionDays === 0 ? undefined : Duration.days(props.archiveRetentionDays ?? 30),
      description: 'Every notifier event, for replay',
    });

    if (props.uphanceSecretKmsKeyArn && !props.uphanceSecretArn) {
      throw new Error('uphanceSecretKmsKeyArn is the key of an existing secret: give uphanceSecretArn too');
    }
    this.secret = props.uphanceSecretArn
      ? Secret.fromSecretCompleteArn(this, 'UphanceCredentials', props.uphanceSecretArn)
      : new Secret(this, 'UphanceCredentials', {
          description: 'Uphance API credentials: {"token": "..."} or {"email": "...", "password": "..."}',
          // An empty token until the user puts the real value: the poller then says what is missing.
          generateSecretString: {
            secretStringTemplate: JSON.stringify({ token: '' }),
            generateStringKey: 'unset',
          },
          removalPolicy: dataPolicy,
        });
    if (this.secret instanceof Secret) {
      NagSuppressions.addResourceSuppressions(this.secret, [
        {
          id: 'AwsSolutions-SMG4',
          reason:
            'Uphance credentials are issued by Uphance; they cannot be rotated from AWS. Rotate them in Uphance and put the new value.',
        },
      ]);
    }

    // What every function that runs cycles (poll worker, webhook check) reads: one environment, so that both diff
    // with the same rules and signal settings.
    const cycleEnvironment: Record<string, string> = {
      TABLE_NAME: this.table.tableName,
      EVENT_BUS_NAME: this.bus.eventBusName,
      UPHANCE_SECRET_ARN: this.secret.secretArn,
      EVENT_SOURCE: source,
      SWEEP_INTERVAL_HOURS: String(props.sweepIntervalHours ?? 24),
      EMIT_BASELINE: String(props.emitBaseline ?? false),
      ...(props.uphanceApiUrl ? { UPHANCE_API_URL: props.uphanceApiUrl } : {}),
      ...(props.organisationIds ? { UPHANCE_ORGANISATION_ID: props.organisationIds } : {}),
      ...signalEnvironment(props.signals),
    };
    /** Reading the credentials secret (and its customer key, if it has one). */
    const grantSecretRead = (fn: NotifierFunction) => {
      this.secret.grantRead(fn);
      if (props.uphanceSecretKmsKeyArn) {
        // An existing secret encrypted with a customer key is unreadable without kms:Decrypt on that key;
        // granted only for calls Secrets Manager makes on the function's behalf. (CDK's own grant is dropped
        // when the key's account cannot be compared with an environment-agnostic stack's.)
        fn.addToRolePolicy(
          new PolicyStatement({
            actions: ['kms:Decrypt'],
            resources: [props.uphanceSecretKmsKeyArn],
            conditions: { StringEquals: { 'kms:ViaService': `secretsmanager.${this.region}.amazonaws.com` } },
          }),
        );
      }
    };
    /** What a function that runs cycles may do: exactly the calls the store makes, PutEvents, the credentials. */
    const grantCycleAccess = (fn: NotifierFunction) => {
      this.table.grant(
        fn,
        'dynamodb:GetItem',
        'dynamodb:BatchGetItem',
        'dynamodb:Query',
        'dynamodb:PutItem',
        'dynamodb:UpdateItem',
        'dynamodb:DeleteItem',
        // Every state write is a transaction led by a check of the lease (fencing).
        'dynamodb:ConditionCheckItem',
      );
      this.bus.grantPutEventsTo(fn);
      grantSecretRead(fn);
    };

    // The schedule always invokes the dispatcher, one organisation or a thousand: an organisation added
    // as data is polled at the next period, whatever was deployed.
    const heartbeatIntervals = props.heartbeatIntervals ?? 3;
    const fanOut = new PollFanOut(this, 'Poll', {
      scheduleMinutes,
      workerConcurrency: props.workerConcurrency ?? 10,
      heartbeatIntervals,
      cycleEnvironment,
      organisationIds: props.organisationIds,
      table: this.table,
      secretArn: this.secret.secretArn,
      dispatchEntry: path('../functions/handlers/dispatch.ts'),
      workerEntry: path('../functions/handlers/poll-worker.ts'),
      removalPolicy: dataPolicy,
    });
    this.pollWorker = fanOut.worker;
    this.dispatcher = fanOut.dispatcher;
    grantCycleAccess(this.pollWorker);
    // The dispatcher groups the messages by credentials: it reads the secret (never Uphance).
    grantSecretRead(this.dispatcher);

    const catalogue = new EventCatalogue(this, 'EventCatalogue', {
      registryName: `${this.stackName}-events`,
      schemaDirectory: path('../schemas'),
      source,
    });

    // One customer-managed key for the topics: EventBridge rules and CloudWatch alarms of this account
    // publish to them. The source conditions stop another account's rule or alarm from using the key
    // through the service (the confused-deputy problem).
    const topicKey = new Key(this, 'TopicKey', {
      enableKeyRotation: true,
      description: 'Encrypts the notifier SNS topics',
    });
    const publishers = [
      {
        service: 'events.amazonaws.com',
        sourceArn: `arn:${this.partition}:events:${this.region}:${this.account}:rule/*`,
      },
      {
        service: 'cloudwatch.amazonaws.com',
        sourceArn: `arn:${this.partition}:cloudwatch:${this.region}:${this.account}:alarm:*`,
      },
    ];
    for (const { service, sourceArn } of publishers) {
      topicKey.addToResourcePolicy(
        new PolicyStatement({
          actions: ['kms:Decrypt', 'kms:GenerateDataKey*'],
          principals: [new ServicePrincipal(service)],
          resources: ['*'],
          conditions: {
            StringEquals: { 'aws:SourceAccount': this.account },
            ArnLike: { 'aws:SourceArn': sourceArn },
          },
        }),
      );
    }

    // One subscription per channel configured (functions/messages/channels.ts); the digest sends to them too.
    const subscriptions: ChannelSubscription[] = [];
    if (props.slack) {
      const slack = new SlackSubscription(this, 'Slack', {
        bus: this.bus,
        source,
        webhookUrl: props.slack.webhookUrl,
        webhookSecretArn: props.slack.webhookSecretArn,
        detailTypes: props.slack.detailTypes,
        stageNames: props.slack.stageNames,
      });
      subscriptions.push(slack);
      new CfnOutput(this, 'SlackWebhookSecretArn', {
        value: slack.secret.secretArn,
        description: 'Put the Slack incoming-webhook URL here',
      });
    }
    if (props.email) {
      subscriptions.push(
        new EmailSubscription(this, 'Email', {
          bus: this.bus,
          source,
          key: topicKey,
          addresses: props.email.addresses,
          detailTypes: props.email.detailTypes,
          stageNames: props.email.stageNames,
        }),
      );
    }
    const deadLetterQueues: Array<{ name: string; queue: ChannelSubscription['deadLetterQueue'] }> = [
      { name: 'PollQueue', queue: fanOut.deadLetterQueue },
      ...subscriptions.map((s) => ({ name: s.node.id, queue: s.deadLetterQueue })),
    ];
    const notifyFunctions = subscriptions.map((s) => ({ name: s.node.id, function: s.function }));
    if (props.exampleConsumer) {
      const consumer = new ExampleConsumer(this, 'ExampleConsumer', {
        bus: this.bus,
        source,
        entry: path('../functions/handlers/example-consumer.ts'),
        removalPolicy: RemovalPolicy.DESTROY,
      });
      deadLetterQueues.push({ name: 'ExampleConsumer', queue: consumer.deadLetterQueue });
    }

    let trigger: WebhookTrigger | undefined;
    if (props.webhook !== false) {
      trigger = new WebhookTrigger(this, 'Webhook', {
        checkEnvironment: cycleEnvironment,
        webhookEntry: path('../functions/handlers/webhook.ts'),
        checkEntry: path('../functions/handlers/check.ts'),
        removalPolicy: dataPolicy,
      });
      grantCycleAccess(trigger.checkFunction);
      deadLetterQueues.push({ name: 'WebhookChecks', queue: trigger.deadLetterQueue });
    }

    const observability = new Observability(this, 'Observability', {
      pollFunction: this.pollWorker,
      scheduleMinutes,
      heartbeatIntervals,
      deadLetterQueues,
      notifyFunctions,
      alarmEmail: props.alarmEmail,
      key: topicKey,
      fanOut: {
        dispatcher: this.dispatcher,
        queue: fanOut.queue,
        workerLogGroup: this.pollWorker.logGroup,
      },
    });

    this.digest =
      subscriptions.length > 0
        ? new DigestSchedule(this, 'Digest', {
            entry: path('../functions/handlers/digest.ts'),
            table: this.table,
            hour: props.digestHour ?? 7,
            timeZone: props.digestTimeZone ?? props.signals?.timeZone ?? 'UTC',
            signalEnvironment: signalEnvironment(props.signals),
            whenEmpty: props.digestWhenEmpty ?? false,
            organisationIds: props.organisationIds,
            channels: subscriptions,
            alarmTopic: observability.alarmTopic,
            logGroupRemovalPolicy: dataPolicy,
          })
        : undefined;

    NagSuppressions.addStackSuppressions(this, [
      {
        id: 'AwsSolutions-IAM4',
        reason:
          'AWSLambdaBasicExecutionRole only lets the functions write their own logs; CDK attaches it to every function role.',
        appliesTo: ['Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole'],
      },
      {
        id: 'AwsSolutions-IAM5',
        reason: 'X-Ray trace segments have no resource-level permissions (xray:PutTraceSegments on *).',
        appliesTo: ['Resource::*'],
      },
      {
        id: 'AwsSolutions-IAM5',
        reason:
          'The scheduler may invoke the dispatcher function and its versions (function ARN and ARN:*); nothing else.',
        appliesTo: [{ regex: '/^Resource::<PollDispatcher[A-Za-z0-9]+\\.Arn>:\\*$/g' }],
      },
      {
        id: 'AwsSolutions-IAM5',
        reason:
          'The scheduler may invoke the digest function and its versions (function ARN and ARN:*); nothing else.',
        appliesTo: [{ regex: '/^Resource::<DigestFunction[A-Za-z0-9]+\\.Arn>:\\*$/g' }],
      },
      {
        id: 'AwsSolutions-L1',
        reason:
          'Node.js 22 is the runtime this project is built and tested for (README, Architecture: Poll function); bump it with the tests.',
      },
    ]);

    new CfnOutput(this, 'EventBusName', {
      value: this.bus.eventBusName,
      description: 'Subscribe your rules to this bus',
    });
    new CfnOutput(this, 'EventBusArn', { value: this.bus.eventBusArn });
    new CfnOutput(this, 'StateTableName', { value: this.table.tableName });
    new CfnOutput(this, 'UphanceSecretArn', {
      value: this.secret.secretArn,
      description: 'Put the Uphance credentials here',
    });
    new CfnOutput(this, 'DispatchFunctionName', { value: this.dispatcher.functionName });
    new CfnOutput(this, 'PollWorkerFunctionName', { value: this.pollWorker.functionName });
    if (trigger) {
      new CfnOutput(this, 'WebhookUrl', {
        value: `${trigger.api.apiEndpoint}/webhooks/uphance/`,
        description:
          'Register this URL followed by the secret in Uphance: aws secretsmanager get-secret-value --secret-id <WebhookSecretArn> --query SecretString --output text',
      });
      new CfnOutput(this, 'WebhookSecretArn', {
        value: trigger.secret.secretArn,
        description: 'The secret path segment of the webhook URL',
      });
    }
    new CfnOutput(this, 'AlarmTopicArn', { value: observability.alarmTopic.topicArn });
    if (this.digest) new CfnOutput(this, 'DigestFunctionName', { value: this.digest.function.functionName });
    new CfnOutput(this, 'SchemaRegistryName', { value: catalogue.registry.attrRegistryName });
  }
}
