import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import { AccessLogField, AccessLogFormat } from 'aws-cdk-lib/aws-apigateway';
import { HttpApi, HttpMethod, HttpStage, LogGroupLogDestination } from 'aws-cdk-lib/aws-apigatewayv2';
import { HttpLambdaIntegration } from 'aws-cdk-lib/aws-apigatewayv2-integrations';
import { SqsEventSource } from 'aws-cdk-lib/aws-lambda-event-sources';
import { LogGroup, RetentionDays } from 'aws-cdk-lib/aws-logs';
import { Secret } from 'aws-cdk-lib/aws-secretsmanager';
import { Queue, QueueEncryption } from 'aws-cdk-lib/aws-sqs';
import { NagSuppressions } from 'cdk-nag';
import { Construct } from 'constructs';
import { CHECK_SLOT_MS } from '../../functions/webhook/message.js';
import { deadLetterQueue } from './dead-letter-queue.js';
import { NotifierFunction } from './notifier-function.js';

export interface WebhookTriggerProps {
  /**
   * The check function's environment: the poll function's own (table, bus, credentials, organisations,
   * signal settings). Its access to them is granted by the stack, as the poll function's is.
   */
  checkEnvironment: Record<string, string>;
  webhookEntry: string;
  checkEntry: string;
  removalPolicy: RemovalPolicy;
  /**
   * Requests a second across the endpoint, and the burst (HTTP API stage throttle: 429 beyond, unbilled).
   * It counts every request, the secret unjudged, so it bounds the cost of a flood; set well above what
   * Uphance sends, so that only a flood above it takes anything from valid webhooks.
   */
  rateLimit?: number;
  burstLimit?: number;
}

/**
 * The webhook trigger (hybrid push): an HTTP API on `/webhooks/uphance/{secret}` whose function only judges
 * the request and queues the order on a FIFO queue (a group per organisation, deduplicated per order and
 * slot, each message held back one slot), and a check function that drains each group one batch at a time
 * through the cycle's lease and commit path. Messages that keep failing go to a dead-letter queue
 * (alarmed by the stack).
 */
export class WebhookTrigger extends Construct {
  readonly api: HttpApi;
  readonly secret: Secret;
  readonly queue: Queue;
  readonly deadLetterQueue: Queue;
  readonly webhookFunction: NotifierFunction;
  readonly checkFunction: NotifierFunction;

  constructor(scope: Construct, id: string, props: WebhookTriggerProps) {
    super(scope, id);
    this.secret = new Secret(this, 'WebhookSecret', {
      description:
        'The secret path segment of the Uphance webhook URL (WebhookUrl + this value); compared in constant time',
      generateSecretString: { passwordLength: 40, excludePunctuation: true, includeSpace: false },
      removalPolicy: props.removalPolicy,
    });
    NagSuppressions.addResourceSuppressions(this.secret, [
      {
        id: 'AwsSolutions-SMG4',
        reason:
          'The webhook secret is part of the URL registered in Uphance: rotating it means re-registering the webhook there, so it is rotated by hand (put a new value, update the URL in Uphance).',
      },
    ]);

    this.deadLetterQueue = deadLetterQueue(this, 'CheckDeadLetters', 'the check queue', { fifo: true });
    const checkTimeout = Duration.seconds(90);
    this.queue = new Queue(this, 'CheckQueue', {
      fifo: true,
      // Deduplication ids are set by the endpoint: one per order and slot (coalescing bursts).
      contentBasedDeduplication: false,
      // Every message waits one slot: its check starts after the slot's last ticket, which SQS dropped as
      // a repeat of it (functions/webhook/message.ts).
      deliveryDelay: Duration.millis(CHECK_SLOT_MS),
      encryption: QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      // A message whose check met a scheduled cycle's lease (or failed) comes back after this, blocking its
      // organisation's group only: a few tries span any cycle (its lease lasts at most the poll timeout),
      // and the schedule sees the order anyway.
      visibilityTimeout: Duration.seconds(120),
      retentionPeriod: Duration.days(1),
      deadLetterQueue: { queue: this.deadLetterQueue, maxReceiveCount: 8 },
    });

    this.webhookFunction = new NotifierFunction(this, 'WebhookFunction', {
      entry: props.webhookEntry,
      description: 'Judges Uphance webhooks and queues the named production order for a check',
      memorySize: 256,
      timeout: Duration.seconds(10),
      logGroupRemovalPolicy: props.removalPolicy,
      environment: {
        WEBHOOK_SECRET_ARN: this.secret.secretArn,
        CHECK_QUEUE_URL: this.queue.queueUrl,
      },
    });
    this.secret.grantRead(this.webhookFunction);
    this.queue.grantSendMessages(this.webhookFunction);

    this.checkFunction = new NotifierFunction(this, 'CheckFunction', {
      entry: props.checkEntry,
      description: 'Checks production orders named by webhooks, through the poll cycle lease and commit',
      memorySize: 512,
      timeout: checkTimeout,
      logGroupRemovalPolicy: props.removalPolicy,
      environment: {
        ...props.checkEnvironment,
        CYCLE_BUDGET_SECONDS: '45',
        CHECK_QUEUE_URL: this.queue.queueUrl,
      },
    });
    // It fans a webhook naming no organisation out to each organisation's group.
    this.queue.grantSendMessages(this.checkFunction);
    // One batch at a time per group (organisation): FIFO never hands out a group's next batch while one is
    // in flight, and the lease keeps the checks and the scheduled cycles apart. Two at once (the least
    // allowed): a slow or failing organisation never holds the others, and Uphance (and credentials that
    // organisations share) see at most two checks at a time.
    this.checkFunction.addEventSource(
      new SqsEventSource(this.queue, { batchSize: 10, reportBatchItemFailures: true, maxConcurrency: 2 }),
    );

    const accessLogs = new LogGroup(this, 'AccessLogs', {
      retention: RetentionDays.ONE_MONTH,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    this.api = new HttpApi(this, 'Api', {
      description: 'Uphance webhooks (receiving tickets) for the notifier',
      createDefaultStage: false,
    });
    new HttpStage(this, 'Stage', {
      httpApi: this.api,
      stageName: '$default',
      autoDeploy: true,
      // Beyond it API Gateway answers 429 itself: no invocation, no request billed. 50 a second is far
      // above what Uphance sends, and what a flood up to it costs is bounded (README, "Webhook trigger").
      throttle: { rateLimit: props.rateLimit ?? 50, burstLimit: props.burstLimit ?? 100 },
      accessLogSettings: {
        destination: new LogGroupLogDestination(accessLogs),
        // The route key, never the path: the path holds the secret.
        format: AccessLogFormat.custom(
          JSON.stringify({
            requestId: AccessLogField.contextRequestId(),
            time: AccessLogField.contextRequestTime(),
            sourceIp: AccessLogField.contextIdentitySourceIp(),
            route: AccessLogField.contextRouteKey(),
            status: AccessLogField.contextStatus(),
          }),
        ),
      },
    });
    this.api.addRoutes({
      path: '/webhooks/uphance/{secret}',
      methods: [HttpMethod.ANY],
      integration: new HttpLambdaIntegration('WebhookIntegration', this.webhookFunction),
    });
    NagSuppressions.addResourceSuppressions(
      this.api,
      [
        {
          id: 'AwsSolutions-APIG4',
          reason:
            'Uphance webhooks carry no credentials and no signature (its documentation advises keeping the URL secret): the secret path segment is the authorisation, compared in constant time by the function.',
        },
      ],
      true,
    );
  }
}
