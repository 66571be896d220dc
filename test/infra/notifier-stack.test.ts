import { statSync } from 'node:fs';
import { join } from 'node:path';
import { App, Aspects } from 'aws-cdk-lib';
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import { AwsSolutionsChecks } from 'cdk-nag';
import { beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_DEPLOYMENT } from '../../bench/cost-model.js';
import { DETAIL_TYPES, jsonSchemaOf } from '../../functions/core/events/catalogue.js';
import { MARKER_ATTRIBUTES, markerKey } from '../../functions/digest/marker.js';
import { propsFromContext } from '../../infra/context.js';
import type { NotifierStackProps } from '../../infra/notifier-stack.js';
import { NotifierStack } from '../../infra/notifier-stack.js';

const synth = (props: NotifierStackProps = {}, bundle = true) => {
  // Asset metadata lets the bundle-size test find the staged bundle, as `cdk synth` does. Without
  // `bundle`, no function is bundled (template assertions only).
  const app = new App({
    context: {
      'aws:cdk:enable-asset-metadata': true,
      ...(bundle ? {} : { 'aws:cdk:bundling-stacks': [] }),
    },
  });
  const stack = new NotifierStack(app, 'Test', props);
  Aspects.of(stack).add(new AwsSolutionsChecks());
  const template = Template.fromStack(stack);
  return { app, stack, template };
};

const full: NotifierStackProps = {
  slack: {
    webhookUrl: 'https://hooks.slack.com/services/T000/B000/XXXX',
    detailTypes: ['StageCompleted'],
    stageNames: ['Sewing'],
  },
  email: { addresses: ['ops@brand.example', 'buyer@brand.example'], detailTypes: ['OrderAllReceived'] },
  alarmEmail: 'oncall@brand.example',
  exampleConsumer: true,
  scheduleMinutes: 10,
  archiveRetentionDays: 90,
  organisationIds: '35802,35803',
  digestHour: 18,
  digestTimeZone: 'Europe/London',
  digestWhenEmpty: true,
};

let base: ReturnType<typeof synth>;
let everything: ReturnType<typeof synth>;
// Each synth bundles every function with esbuild: minutes on a loaded machine.
beforeAll(() => {
  base = synth();
  everything = synth(full);
}, 600_000);

describe('state table', () => {
  it('is on-demand, encrypted, with point-in-time recovery, a TTL for the lease, and retained', () => {
    base.template.hasResource('AWS::DynamoDB::Table', {
      Properties: Match.objectLike({
        BillingMode: 'PAY_PER_REQUEST',
        KeySchema: [
          { AttributeName: 'pk', KeyType: 'HASH' },
          { AttributeName: 'sk', KeyType: 'RANGE' },
        ],
        SSESpecification: { SSEEnabled: true },
        PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
        TimeToLiveSpecification: { AttributeName: 'ttl', Enabled: true },
      }),
      DeletionPolicy: 'Retain',
      UpdateReplacePolicy: 'Retain',
    });
  });

  it('can be destroyed with the stack when retainData is false', () => {
    synth({ retainData: false }, false).template.hasResource('AWS::DynamoDB::Table', {
      DeletionPolicy: 'Delete',
    });
  });
});

describe('bus, archive and schema registry', () => {
  it('has a custom bus with an archive of the notifier events', () => {
    base.template.resourceCountIs('AWS::Events::EventBus', 1);
    base.template.hasResourceProperties('AWS::Events::Archive', {
      RetentionDays: 30,
      EventPattern: { source: ['uphance.production-orders'] },
    });
    everything.template.hasResourceProperties('AWS::Events::Archive', { RetentionDays: 90 });
  });

  it('registers one draft-04 schema per detail-type', () => {
    base.template.resourceCountIs('AWS::EventSchemas::Registry', 1);
    base.template.resourceCountIs('AWS::EventSchemas::Schema', DETAIL_TYPES.length);
    const schemas = base.template.findResources('AWS::EventSchemas::Schema');
    const names = Object.values(schemas)
      .map((s) => s.Properties.SchemaName)
      .sort();
    expect(names).toEqual(DETAIL_TYPES.map((t) => `uphance.production-orders@${t}`).sort());
    for (const schema of Object.values(schemas)) {
      expect(schema.Properties.Type).toBe('JSONSchemaDraft4');
      const content = JSON.parse(schema.Properties.Content);
      expect(content.$schema).toBe('http://json-schema.org/draft-04/schema#');
      expect(content.properties.detail.properties.eventId).toBeDefined();
    }
  });

  it('carries the generated schemas as they are now: open for additive change', () => {
    const schemas = base.template.findResources('AWS::EventSchemas::Schema');
    for (const type of DETAIL_TYPES) {
      const resource = Object.values(schemas).find(
        (s) => s.Properties.SchemaName === `uphance.production-orders@${type}`,
      );
      const content = JSON.parse(resource?.Properties.Content);
      // A change of content is what makes the registry publish a new schema version on deploy.
      const { $schema: _schema, ...detail } = jsonSchemaOf(type);
      expect(content.properties.detail).toEqual(detail);
      expect(resource?.Properties.Content).not.toContain('additionalProperties');
    }
  });
});

describe('dispatcher, poll queue and poll worker', () => {
  const functionNamed = (template: Template, prefix: string) =>
    Object.entries(template.findResources('AWS::Lambda::Function')).find(([id]) => id.startsWith(prefix));
  const statementsOf = (template: Template, role: string) =>
    Object.values(template.findResources('AWS::IAM::Policy'))
      .filter((p) => JSON.stringify(p.Properties.Roles).includes(role))
      .flatMap((p) => p.Properties.PolicyDocument.Statement) as Array<{
      Action: string | string[];
      Resource: unknown;
    }>;
  const actionsOf = (template: Template, role: string) =>
    statementsOf(template, role).flatMap((s) => [s.Action].flat());

  it('the worker is Node 22 on arm64, traced, 512 MB, a timeout a minute short of the schedule, with its configuration', () => {
    const [, worker] = functionNamed(base.template, 'PollWorker') ?? [];
    expect(worker?.Properties).toMatchObject({
      Runtime: 'nodejs22.x',
      Architectures: ['arm64'],
      MemorySize: 512,
      Timeout: 240,
      TracingConfig: { Mode: 'Active' },
      Environment: {
        Variables: expect.objectContaining({
          TABLE_NAME: expect.anything(),
          EVENT_BUS_NAME: expect.anything(),
          UPHANCE_SECRET_ARN: expect.anything(),
          POLL_QUEUE_URL: { Ref: expect.stringMatching(/^PollQueue/) },
          CYCLE_BUDGET_SECONDS: '185',
          NODE_OPTIONS: '--enable-source-maps',
        }),
      },
    });
  });

  it('keeps the worker timeout below a short schedule period, so that a killed cycle’s lease has expired by the next', () => {
    const [, worker] = functionNamed(synth({ scheduleMinutes: 1 }, false).template, 'PollWorker') ?? [];
    expect(worker?.Properties.Timeout).toBe(30);
    expect(worker?.Properties.Environment.Variables.CYCLE_BUDGET_SECONDS).toBe('10');
  });

  it('the worker takes one message at a time from the poll queue, at most workerConcurrency at once, reporting failures', () => {
    const [queueId] =
      Object.entries(base.template.findResources('AWS::SQS::Queue')).find(([id]) =>
        /^PollQueue[0-9A-F]/.test(id),
      ) ?? [];
    const [workerId] = functionNamed(base.template, 'PollWorker') ?? [];
    base.template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      FunctionName: { Ref: workerId },
      EventSourceArn: { 'Fn::GetAtt': [queueId, 'Arn'] },
      BatchSize: 1,
      ScalingConfig: { MaximumConcurrency: 10 },
      FunctionResponseTypes: ['ReportBatchItemFailures'],
    });
    synth({ workerConcurrency: 25 }, false).template.hasResourceProperties(
      'AWS::Lambda::EventSourceMapping',
      {
        BatchSize: 1,
        ScalingConfig: { MaximumConcurrency: 25 },
      },
    );
    expect(() => synth({ workerConcurrency: 1 }, false)).toThrow(
      /workerConcurrency must be a whole number from 2 to 1000/,
    );
    expect(propsFromContext((k) => ({ workerConcurrency: '20' })[k]).workerConcurrency).toBe(20);
    expect(() => propsFromContext((k) => ({ workerConcurrency: 'many' })[k])).toThrow(
      /workerConcurrency must be a whole number/,
    );
  });

  it('the poll queue is FIFO (a group per set of credentials), deduplicated by the dispatcher, visible again only after the worker’s timeout, with a FIFO dead-letter queue', () => {
    const queues = Object.entries(base.template.findResources('AWS::SQS::Queue'));
    const [, poll] = queues.find(([id]) => /^PollQueue[0-9A-F]/.test(id)) ?? [];
    const [deadLettersId, deadLetters] = queues.find(([id]) => id.startsWith('PollDeadLetters')) ?? [];
    expect(poll?.Properties).toMatchObject({
      FifoQueue: true,
      ContentBasedDeduplication: false,
      SqsManagedSseEnabled: true,
      VisibilityTimeout: 270,
      MessageRetentionPeriod: 86_400,
      RedrivePolicy: { maxReceiveCount: 10, deadLetterTargetArn: { 'Fn::GetAtt': [deadLettersId, 'Arn'] } },
    });
    expect(deadLetters?.Properties.FifoQueue).toBe(true);
    const alarms = Object.values(base.template.findResources('AWS::CloudWatch::Alarm')).map(
      (a) => a.Properties,
    );
    expect(
      alarms.some(
        (a) =>
          a.MetricName === 'ApproximateNumberOfMessagesVisible' &&
          JSON.stringify(a.Dimensions).includes(deadLettersId ?? '?'),
      ),
    ).toBe(true);
  });

  it('the schedule invokes the dispatcher with its scheduled time, retried (SQS deduplicates a repeated period)', () => {
    const [dispatcherId, dispatcher] = functionNamed(base.template, 'PollDispatcher') ?? [];
    base.template.resourceCountIs('AWS::Scheduler::Schedule', 1);
    base.template.hasResourceProperties('AWS::Scheduler::Schedule', {
      ScheduleExpression: 'rate(5 minutes)',
      State: 'ENABLED',
      Target: Match.objectLike({
        Arn: { 'Fn::GetAtt': [dispatcherId, 'Arn'] },
        Input: '{"scheduledTime":"<aws.scheduler.scheduled-time>"}',
        RetryPolicy: { MaximumRetryAttempts: 2, MaximumEventAgeInSeconds: 300 },
      }),
    });
    everything.template.hasResourceProperties('AWS::Scheduler::Schedule', {
      ScheduleExpression: 'rate(10 minutes)',
    });
    base.template.hasResourceProperties('AWS::Lambda::EventInvokeConfig', {
      FunctionName: { Ref: dispatcherId },
      MaximumRetryAttempts: 2,
      MaximumEventAgeInSeconds: 300,
    });
    expect(dispatcher?.Properties.Environment.Variables).toMatchObject({
      SCHEDULE_MINUTES: '5',
      HEARTBEAT_INTERVALS: '3',
      POLL_QUEUE_URL: { Ref: expect.stringMatching(/^PollQueue/) },
      TABLE_NAME: { Ref: expect.stringMatching(/^State/) },
      UPHANCE_SECRET_ARN: { Ref: expect.stringMatching(/^UphanceCredentials/) },
    });
  });

  it('the dispatcher reads the registry and the secret and sends to the poll queue; it never calls Uphance or the bus', () => {
    const actions = actionsOf(base.template, 'PollDispatcher');
    expect(actions).toEqual(
      expect.arrayContaining([
        'dynamodb:Query',
        'dynamodb:PutItem',
        'dynamodb:UpdateItem',
        'sqs:SendMessage',
        'secretsmanager:GetSecretValue',
      ]),
    );
    for (const never of ['events:PutEvents', 'dynamodb:DeleteItem', 'dynamodb:Scan', 'sqs:ReceiveMessage'])
      expect(actions).not.toContain(never);
    // Its table access: the registry's and the run records' partitions only.
    const table = statementsOf(base.template, 'PollDispatcher').filter((st) =>
      [st.Action].flat().some((a) => String(a).startsWith('dynamodb:')),
    );
    expect(table).toEqual([
      expect.objectContaining({
        Condition: {
          'ForAllValues:StringEquals': { 'dynamodb:LeadingKeys': ['registry', 'fanout'] },
          Null: { 'dynamodb:LeadingKeys': 'false' },
        },
      }),
    ]);
  });

  it('alarms when a sealed commit keeps failing to replay (its organisation is stuck until it goes through)', () => {
    base.template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      MetricName: 'CommitReplayFailed',
      Namespace: 'UphanceNotifier',
      Dimensions: [{ Name: 'service', Value: 'uphance-notifier' }],
      Statistic: 'Sum',
      Threshold: 1,
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
      EvaluationPeriods: 3,
      DatapointsToAlarm: 2,
      TreatMissingData: 'notBreaching',
      AlarmActions: [Match.anyValue()],
    });
  });

  it('the worker is granted exactly the DynamoDB calls it makes, PutEvents on its bus, the secret and the queue', () => {
    const actions = actionsOf(base.template, 'PollWorker');
    expect(actions).toEqual(
      expect.arrayContaining([
        'dynamodb:GetItem',
        'dynamodb:BatchGetItem',
        'dynamodb:Query',
        'dynamodb:PutItem',
        'dynamodb:UpdateItem',
        'dynamodb:DeleteItem',
        'dynamodb:ConditionCheckItem',
        'events:PutEvents',
        'secretsmanager:GetSecretValue',
        'sqs:ReceiveMessage',
        'sqs:DeleteMessage',
        'sqs:ChangeMessageVisibility',
      ]),
    );
    expect(actions).not.toContain('dynamodb:Scan');
    expect(actions).not.toContain('dynamodb:BatchWriteItem');
    expect(actions.some((a: string) => a.endsWith(':*'))).toBe(false);
  });

  it('alarms when the bus refuses events for good (set aside, to be resent)', () => {
    base.template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      MetricName: 'EventsSetAside',
      Namespace: 'UphanceNotifier',
      Threshold: 1,
    });
  });

  it('writes to explicit log groups with retention', () => {
    base.template.hasResourceProperties('AWS::Logs::LogGroup', { RetentionInDays: 30 });
    base.template.hasResourceProperties('AWS::Lambda::Function', {
      LoggingConfig: { LogGroup: Match.anyValue() },
    });
  });

  it('creates the credentials secret, or uses an existing one by ARN', () => {
    // The credentials and the webhook's path secret.
    base.template.resourceCountIs('AWS::SecretsManager::Secret', 2);
    // Created holding an empty token, so that the poller reports the missing value instead of a 401.
    base.template.hasResourceProperties('AWS::SecretsManager::Secret', {
      GenerateSecretString: { SecretStringTemplate: '{"token":""}', GenerateStringKey: 'unset' },
    });
    const arn = 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:uphance-AbCdEf';
    const existing = synth({ uphanceSecretArn: arn, webhook: false }, false);
    existing.template.resourceCountIs('AWS::SecretsManager::Secret', 0);
    for (const prefix of ['PollWorker', 'PollDispatcher'])
      expect(
        functionNamed(existing.template, prefix)?.[1].Properties.Environment.Variables.UPHANCE_SECRET_ARN,
      ).toBe(arn);
  });

  it('may read an existing secret encrypted with a customer key: kms:Decrypt on that key, through Secrets Manager', () => {
    const secretArn = 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:uphance-AbCdEf';
    const keyArn = 'arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab';
    const withKey = synth({ uphanceSecretArn: secretArn, uphanceSecretKmsKeyArn: keyArn });
    const statements = Object.values(withKey.template.findResources('AWS::IAM::Policy')).flatMap(
      (p) => p.Properties.PolicyDocument.Statement as Array<Record<string, unknown>>,
    );
    const decrypt = statements.find((s) => JSON.stringify(s.Resource) === JSON.stringify(keyArn));
    expect(decrypt?.Action).toEqual('kms:Decrypt');
    expect(JSON.stringify(decrypt?.Condition)).toContain('secretsmanager.');
    // Every function that reads the credentials: the worker, the dispatcher and the webhook check function.
    const rolesWithKey = Object.values(withKey.template.findResources('AWS::IAM::Policy'))
      .filter((p) => JSON.stringify(p.Properties.PolicyDocument).includes(keyArn))
      .map((p) => JSON.stringify(p.Properties.Roles));
    for (const role of ['PollWorker', 'PollDispatcher', 'CheckFunction'])
      expect(rolesWithKey.some((r) => r.includes(role))).toBe(true);
    // Without the key, no KMS grant beyond the topics' own key.
    const plain = JSON.stringify(
      synth({ uphanceSecretArn: secretArn }).template.findResources('AWS::IAM::Policy'),
    );
    expect(plain).not.toContain('kms:Decrypt');
    expect(() => synth({ uphanceSecretKmsKeyArn: keyArn })).toThrow(/give uphanceSecretArn too/);
  });

  it('bundles the dispatcher and the worker under 1 MB each', () => {
    for (const id of ['Dispatcher', 'Worker']) {
      const fn = base.stack.node.findChild('Poll').node.findChild(id).node.defaultChild as unknown as {
        getMetadata(key: string): string;
      };
      const size = statSync(join(base.app.outdir, fn.getMetadata('aws:asset:path'), 'index.mjs')).size;
      process.stderr.write(`${id.toLowerCase()} bundle: ${(size / 1024).toFixed(1)} KiB\n`);
      expect(size).toBeLessThan(1024 * 1024);
    }
  });
});

describe('subscriptions', () => {
  const rulesTo = (template: Template, fragment: string) =>
    Object.values(template.findResources('AWS::Events::Rule'))
      .map((r) => r.Properties)
      .filter((p) => JSON.stringify(p.Targets).includes(fragment));
  const notifyFunction = (template: Template, channel: string) =>
    Object.values(template.findResources('AWS::Lambda::Function')).find(
      (f) => f.Properties.Environment?.Variables?.NOTIFY_CHANNEL === channel,
    )?.Properties;

  it('Slack: the notify function gets the whole event (no input transformer), with retries and a DLQ', () => {
    const rules = rulesTo(everything.template, 'SlackNotifyFunction');
    expect(rules).toHaveLength(1);
    const rule = rules[0]!;
    // The stage filter applies to every event that carries a stage name.
    expect(rule.EventPattern).toEqual({
      source: ['uphance.production-orders'],
      'detail-type': ['StageCompleted'],
      detail: { stage: { name: ['Sewing'] } },
    });
    const target = rule.Targets[0];
    expect(target.Input).toBeUndefined();
    expect(target.InputTransformer).toBeUndefined();
    expect(target.InputPath).toBeUndefined();
    expect(target.RetryPolicy).toEqual({ MaximumRetryAttempts: 20, MaximumEventAgeInSeconds: 21600 });
    expect(target.DeadLetterConfig.Arn).toBeDefined();
    const fn = notifyFunction(everything.template, 'slack')!;
    expect(fn.Environment.Variables.SLACK_WEBHOOK_SECRET_ARN).toEqual({
      Ref: expect.stringMatching(/^SlackWebhook/),
    });
    expect(fn.DeadLetterConfig.TargetArn).toBeDefined();
    everything.template.hasResourceProperties('AWS::Lambda::EventInvokeConfig', {
      MaximumRetryAttempts: 2,
      MaximumEventAgeInSeconds: 21600,
    });
    everything.template.resourceCountIs('AWS::Events::ApiDestination', 0);
  });

  it('Slack: the webhook URL lives in a secret; given by ARN it is not in the template at all', () => {
    const byArn = synth({
      slack: {
        webhookSecretArn: 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:slack-AbCdEf',
        detailTypes: [],
      },
    });
    expect(JSON.stringify(byArn.template.toJSON())).not.toContain('hooks.slack.com');
    const fn = notifyFunction(byArn.template, 'slack')!;
    expect(fn.Environment.Variables.SLACK_WEBHOOK_SECRET_ARN).toBe(
      'arn:aws:secretsmanager:eu-west-1:123456789012:secret:slack-AbCdEf',
    );
    // Default subscriptions: what a team acts on.
    const [rule] = rulesTo(byArn.template, 'SlackNotifyFunction');
    expect(rule?.EventPattern['detail-type']).toEqual([
      'OrderStageCompleted',
      'OrderAllReceived',
      'OrderOverdue',
      'StageStalled',
      'OrderAtRisk',
    ]);
    const placeholder = synth({ slack: { detailTypes: ['OrderOverdue'] } });
    placeholder.template.hasResourceProperties('AWS::SecretsManager::Secret', {
      Description: Match.stringLikeRegexp('Slack incoming-webhook URL'),
      GenerateSecretString: Match.anyValue(),
    });
  });

  it('email: an encrypted SNS topic, one subscription per address, published to by the notify function', () => {
    everything.template.hasResourceProperties('AWS::SNS::Subscription', {
      Protocol: 'email',
      Endpoint: 'ops@brand.example',
    });
    everything.template.hasResourceProperties('AWS::SNS::Subscription', {
      Protocol: 'email',
      Endpoint: 'buyer@brand.example',
    });
    const [rule] = rulesTo(everything.template, 'EmailNotifyFunction');
    expect(rule?.EventPattern).toEqual({
      source: ['uphance.production-orders'],
      'detail-type': ['OrderAllReceived'],
    });
    expect(rule?.Targets[0].InputTransformer).toBeUndefined();
    expect(rule?.Targets[0].DeadLetterConfig).toBeDefined();
    const fn = notifyFunction(everything.template, 'email')!;
    expect(fn.Environment.Variables.EMAIL_TOPIC_ARN).toEqual({ Ref: expect.stringMatching(/^EmailTopic/) });
    const statements = Object.values(everything.template.findResources('AWS::IAM::Policy')).flatMap(
      (p) => p.Properties.PolicyDocument.Statement,
    );
    expect(statements).toEqual(
      expect.arrayContaining([
        expect.objectContaining({
          Action: 'sns:Publish',
          Resource: { Ref: expect.stringMatching(/^EmailTopic/) },
        }),
      ]),
    );
    everything.template.hasResourceProperties('AWS::SNS::Topic', {
      DisplayName: 'Uphance production orders',
      KmsMasterKeyId: Match.anyValue(),
    });
  });

  it('none unless configured', () => {
    expect(notifyFunction(base.template, 'slack')).toBeUndefined();
    expect(notifyFunction(base.template, 'email')).toBeUndefined();
    expect(JSON.stringify(base.template.findResources('AWS::SNS::Subscription'))).toBe('{}');
  });
});

describe('observability', () => {
  it('has the alarms the monthly cost model counts (bench/cost-model.ts)', () => {
    base.template.resourceCountIs('AWS::CloudWatch::Alarm', DEFAULT_DEPLOYMENT.alarms);
  });

  it('alarms on errors, a missing heartbeat, PutEvents failures and each DLQ, to the alarm topic', () => {
    const alarms = Object.values(everything.template.findResources('AWS::CloudWatch::Alarm')).map(
      (a) => a.Properties,
    );
    const byMetric = (name: string) => alarms.filter((a) => a.MetricName === name);
    // The poll worker, the dispatcher, the two notify functions and the digest function.
    expect(byMetric('Errors')).toHaveLength(5);
    expect(byMetric('CycleCompleted')[0]).toMatchObject({
      ComparisonOperator: 'LessThanThreshold',
      EvaluationPeriods: 3,
      TreatMissingData: 'breaching',
      Namespace: 'UphanceNotifier',
    });
    expect(byMetric('PutEventsFailures')).toHaveLength(1);
    // The poll queue, Slack, email, the example consumer, the webhook checks and the digest schedule.
    expect(byMetric('ApproximateNumberOfMessagesVisible')).toHaveLength(6);
    for (const alarm of alarms) expect(alarm.AlarmActions).toHaveLength(1);
    everything.template.hasResourceProperties('AWS::SNS::Subscription', {
      Protocol: 'email',
      Endpoint: 'oncall@brand.example',
    });
    everything.template.resourceCountIs('AWS::CloudWatch::Dashboard', 1);
  });
});

describe('topic key', () => {
  it('lets EventBridge rules and CloudWatch alarms use it only from this account', () => {
    const [key] = Object.values(base.template.findResources('AWS::KMS::Key'));
    const statements = key?.Properties.KeyPolicy.Statement as Array<{
      Principal: unknown;
      Action: unknown;
      Condition: { StringEquals: Record<string, unknown>; ArnLike: Record<string, unknown> };
    }>;
    const service = (name: string) => statements.filter((s) => JSON.stringify(s.Principal).includes(name));
    for (const [principal, arnPart] of [
      ['events.amazonaws.com', ':rule/*'],
      ['cloudwatch.amazonaws.com', ':alarm:*'],
    ] as const) {
      const granted = service(principal);
      expect(granted).toHaveLength(1);
      expect(granted[0]?.Action).toEqual(['kms:Decrypt', 'kms:GenerateDataKey*']);
      expect(granted[0]?.Condition.StringEquals['aws:SourceAccount']).toEqual({ Ref: 'AWS::AccountId' });
      expect(JSON.stringify(granted[0]?.Condition.ArnLike['aws:SourceArn'])).toContain(arnPart);
    }
  });
});

describe('webhook trigger', () => {
  const resources = (type: string) => Object.values(base.template.findResources(type));

  it('is an HTTP API with one route, ANY /webhooks/uphance/{secret}, a stage throttle and access logs without the path', () => {
    base.template.resourceCountIs('AWS::ApiGatewayV2::Api', 1);
    base.template.hasResourceProperties('AWS::ApiGatewayV2::Api', { ProtocolType: 'HTTP' });
    const routes = resources('AWS::ApiGatewayV2::Route').map((r) => r.Properties.RouteKey);
    expect(routes).toEqual(['ANY /webhooks/uphance/{secret}']);
    const [stage] = resources('AWS::ApiGatewayV2::Stage');
    expect(stage?.Properties).toMatchObject({
      StageName: '$default',
      AutoDeploy: true,
      // Well above what Uphance sends: only a flood above it takes anything from valid webhooks.
      DefaultRouteSettings: { ThrottlingRateLimit: 50, ThrottlingBurstLimit: 100 },
    });
    const format = String(stage?.Properties.AccessLogSettings.Format);
    expect(format).toContain('$context.routeKey');
    expect(format).not.toMatch(/\$context\.path|\$context\.requestPath|rawPath/);
  });

  it('keeps the secret in Secrets Manager, generated, readable by the endpoint function only', () => {
    const secrets = resources('AWS::SecretsManager::Secret').filter((r) =>
      String(r.Properties.Description).includes('webhook'),
    );
    expect(secrets).toHaveLength(1);
    expect(secrets[0]?.Properties.GenerateSecretString).toMatchObject({
      PasswordLength: 40,
      ExcludePunctuation: true,
    });
    const endpoint = resources('AWS::Lambda::Function').find((f) =>
      String(f.Properties.Description).startsWith('Judges Uphance webhooks'),
    );
    expect(Object.keys(endpoint?.Properties.Environment.Variables)).toEqual(
      expect.arrayContaining(['WEBHOOK_SECRET_ARN', 'CHECK_QUEUE_URL']),
    );
    // The endpoint never talks to Uphance: it has neither the credentials nor the table.
    expect(Object.keys(endpoint?.Properties.Environment.Variables)).not.toContain('UPHANCE_SECRET_ARN');
    expect(endpoint?.Properties.Timeout).toBe(10);
  });

  it('leaves the organisations to the check function: the endpoint is told none of them', () => {
    const endpoint = Object.values(everything.template.findResources('AWS::Lambda::Function')).find((f) =>
      String(f.Properties.Description).startsWith('Judges Uphance webhooks'),
    );
    const variables = Object.keys(endpoint?.Properties.Environment.Variables);
    expect(variables).toContain('CHECK_QUEUE_URL');
    expect(variables).not.toContain('UPHANCE_ORGANISATION_ID');
    expect(variables).not.toContain('TABLE_NAME');
  });

  it('queues checks on an encrypted FIFO queue with explicit deduplication and a FIFO dead-letter queue', () => {
    const queues = Object.entries(base.template.findResources('AWS::SQS::Queue'))
      .filter(([id]) => id.startsWith('Webhook'))
      .map(([, q]) => q);
    const main = queues.find((q) => q.Properties.RedrivePolicy);
    expect(main?.Properties).toMatchObject({
      FifoQueue: true,
      ContentBasedDeduplication: false,
      SqsManagedSseEnabled: true,
      RedrivePolicy: { maxReceiveCount: 8 },
      // Held back one coalescing slot, so a slot's check starts after its last ticket.
      DelaySeconds: 10,
    });
    expect(queues.filter((q) => q.Properties.FifoQueue)).toHaveLength(2);
  });

  it('drains the queue with the check function (batch failures reported) through the poll function’s state', () => {
    base.template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      BatchSize: 10,
      FunctionResponseTypes: ['ReportBatchItemFailures'],
      // Groups are organisations: two at once, so one slow or failing organisation holds no other.
      ScalingConfig: { MaximumConcurrency: 2 },
    });
    const [checkId, check] = Object.entries(base.template.findResources('AWS::Lambda::Function')).find(
      ([, f]) => String(f.Properties.Description).startsWith('Checks production orders named by webhooks'),
    ) ?? ['', undefined];
    expect(Object.keys(check?.Properties.Environment.Variables)).toEqual(
      expect.arrayContaining(['TABLE_NAME', 'EVENT_BUS_NAME', 'UPHANCE_SECRET_ARN', 'CHECK_QUEUE_URL']),
    );
    // It fans a webhook naming no organisation out to each organisation's group: it may send to the queue.
    const role = check?.Properties.Role['Fn::GetAtt'][0];
    const policies = resources('AWS::IAM::Policy').filter((p) =>
      JSON.stringify(p.Properties.Roles).includes(role),
    );
    expect(checkId).not.toBe('');
    expect(JSON.stringify(policies)).toContain('sqs:SendMessage');
  });

  it('outputs the webhook URL without the secret, and where the secret is', () => {
    const outputs = base.template.findOutputs('*');
    expect(JSON.stringify(outputs.WebhookUrl?.Value)).toContain('/webhooks/uphance/');
    expect(outputs.WebhookUrl?.Description).toMatch(/get-secret-value/);
    expect(outputs.WebhookSecretArn).toBeDefined();
  });

  it('can be left out', () => {
    const without = synth({ webhook: false }, false);
    without.template.resourceCountIs('AWS::ApiGatewayV2::Api', 0);
    expect(without.template.findOutputs('WebhookUrl')).toEqual({});
  });
});

describe('organisations', () => {
  const threeOrganisations = () => synth({ organisationIds: '35802,35803,35804' }, false).template;

  it('passes the deployment’s list to the dispatcher (the seed) and the digest', () => {
    const variables = (prefix: string) =>
      Object.entries(everything.template.findResources('AWS::Lambda::Function')).find(([id]) =>
        id.startsWith(prefix),
      )?.[1].Properties.Environment.Variables;
    expect(variables('PollDispatcher')?.UPHANCE_ORGANISATION_ID).toBe('35802,35803');
    // The digest sends one digest per organisation: it gets the whole list too.
    expect(variables('DigestFunction')?.UPHANCE_ORGANISATION_ID).toBe('35802,35803');
  });

  it('lets every function that reads the deployment’s organisations read the registry items (pk = registry)', () => {
    // The dispatcher, the check function and the digest function read the seed and the registry: a Query
    // on the state table, in any partition or in the registry's (the dispatcher: its and the run records').
    for (const role of ['PollDispatcher', 'WebhookCheckFunction', 'DigestFunction']) {
      const queries = Object.values(everything.template.findResources('AWS::IAM::Policy'))
        .filter((p) => JSON.stringify(p.Properties.Roles).includes(role))
        .flatMap((p) => p.Properties.PolicyDocument.Statement as Array<Record<string, unknown>>)
        .filter((s) => [s.Action].flat().includes('dynamodb:Query'));
      expect(queries, role).toHaveLength(1);
      const [query] = queries as [Record<string, unknown>];
      expect(JSON.stringify(query.Resource), role).toMatch(/"State[^"]*","Arn"/);
      const keys = (query.Condition as Record<string, Record<string, unknown>> | undefined)?.[
        'ForAllValues:StringEquals'
      ]?.['dynamodb:LeadingKeys'];
      if (keys !== undefined) expect(keys, role).toContain('registry');
    }
  });

  it('has no resource of an organisation’s own: with three organisations, the same alarms as with none', () => {
    const template = threeOrganisations();
    const alarms = Object.values(template.findResources('AWS::CloudWatch::Alarm')).map((a) => a.Properties);
    expect(alarms).toHaveLength(DEFAULT_DEPLOYMENT.alarms);
    expect(JSON.stringify(alarms)).not.toMatch(/"Name":"organisation"/);
    for (const id of ['35802', '35803', '35804']) expect(JSON.stringify(alarms)).not.toContain(id);
    expect(Object.keys(template.toJSON().Resources).length).toBe(
      Object.keys(synth({}, false).template.toJSON().Resources).length,
    );
  });

  it('alarms on counts of organisations failing and gone silent, and on a missing heartbeat', () => {
    const alarms = Object.values(threeOrganisations().findResources('AWS::CloudWatch::Alarm')).map(
      (a) => a.Properties,
    );
    const byMetric = (name: string) => alarms.find((a) => a.MetricName === name);
    expect(byMetric('OrganisationsFailing')).toMatchObject({
      Statistic: 'Maximum',
      Threshold: 1,
      EvaluationPeriods: 2,
      DatapointsToAlarm: 2,
      Dimensions: [{ Name: 'service', Value: 'uphance-notifier' }],
    });
    expect(String(byMetric('OrganisationsFailing')?.AlarmDescription)).toMatch(
      /failing-organisations.*organisations list/,
    );
    expect(byMetric('OrganisationsStale')).toMatchObject({ Statistic: 'Maximum', Threshold: 1 });
    // The heartbeat fires when no cycle completes at all, also when nothing reports (missing data).
    expect(byMetric('CycleCompleted')).toMatchObject({
      ComparisonOperator: 'LessThanThreshold',
      EvaluationPeriods: 3,
      TreatMissingData: 'breaching',
      Dimensions: [{ Name: 'service', Value: 'uphance-notifier' }],
    });
    expect(byMetric('ApproximateAgeOfOldestMessage')).toMatchObject({ Threshold: 600 });
  });

  it('names the failing organisations with a Logs Insights query on the worker’s logs (and on the dashboard)', () => {
    const template = threeOrganisations();
    const [definition] = Object.values(template.findResources('AWS::Logs::QueryDefinition'));
    expect(definition?.Properties.Name).toBe('Test/failing-organisations');
    expect(definition?.Properties.QueryString).toMatch(/filter message like \/\^cycle failed\//);
    expect(definition?.Properties.QueryString).toMatch(/by organisationId/);
    const [workerLogs] =
      Object.entries(template.findResources('AWS::Logs::LogGroup')).find(([id]) =>
        id.startsWith('PollWorkerLogs'),
      ) ?? [];
    expect(definition?.Properties.LogGroupNames).toEqual([{ Ref: workerLogs }]);
    const [dashboard] = Object.values(template.findResources('AWS::CloudWatch::Dashboard'));
    expect(JSON.stringify(dashboard?.Properties.DashboardBody)).toContain('by organisationId');
  });

  it('reads organisationIds (or organisationId) from the context and refuses a bad list', () => {
    expect(propsFromContext((k) => ({ organisationIds: '35802, 35803' })[k]).organisationIds).toBe(
      '35802,35803',
    );
    expect(propsFromContext((k) => ({ organisationId: '35802' })[k]).organisationIds).toBe('35802');
    expect(() => propsFromContext((k) => ({ organisationIds: '35802,x' })[k])).toThrow(/organisationIds/);
    expect(() => propsFromContext((k) => ({ organisationIds: '1,1' })[k])).toThrow(/organisationIds/);
  });
});

describe('digest', () => {
  const digestFunction = (t: Template) =>
    Object.entries(t.findResources('AWS::Lambda::Function')).find(([id]) => id.startsWith('DigestFunction'));

  it('runs daily at digestHour in digestTimeZone on EventBridge Scheduler, retried, with a DLQ', () => {
    const [id] = digestFunction(everything.template) ?? [];
    expect(id).toBeDefined();
    everything.template.hasResourceProperties('AWS::Scheduler::Schedule', {
      ScheduleExpression: 'cron(0 18 * * ? *)',
      ScheduleExpressionTimezone: 'Europe/London',
      State: 'ENABLED',
      Target: Match.objectLike({
        Arn: { 'Fn::GetAtt': [id, 'Arn'] },
        RetryPolicy: { MaximumRetryAttempts: 2, MaximumEventAgeInSeconds: 7200 },
        Input: '{"scheduledTime":"<aws.scheduler.scheduled-time>"}',
        DeadLetterConfig: { Arn: Match.anyValue() },
      }),
    });
  });

  it("reads the production signals' settings, in the signals' time zone unless digestTimeZone says otherwise", () => {
    const signals = {
      timeZone: 'Europe/Paris',
      dueSoonDays: 3,
      stallDays: 10,
      stallDaysByStage: 'Sewing=14',
    };
    const variables = (props: NotifierStackProps) =>
      digestFunction(
        synth({ email: { addresses: ['a@b.c'], detailTypes: [] }, signals, ...props }, false).template,
      )?.[1]?.Properties.Environment.Variables;
    expect(variables({})).toMatchObject({
      TIME_ZONE: 'Europe/Paris',
      DUE_SOON_DAYS: '3',
      STALL_DAYS: '10',
      STALL_DAYS_BY_STAGE: 'Sewing=14',
    });
    expect(variables({ digestTimeZone: 'Asia/Tokyo' })).toMatchObject({
      TIME_ZONE: 'Asia/Tokyo',
      DUE_SOON_DAYS: '3',
    });
  });

  it('a failed run is retried by Lambda with the same scheduled time, then dead-lettered', () => {
    const [id] = digestFunction(everything.template) ?? [];
    const queues = everything.template.findResources('AWS::SQS::Queue');
    const dlq = Object.keys(queues).find((q) => q.startsWith('DigestDeadLetters'));
    everything.template.hasResourceProperties('AWS::Lambda::EventInvokeConfig', {
      FunctionName: { Ref: id },
      MaximumRetryAttempts: 2,
      MaximumEventAgeInSeconds: 7200,
      DestinationConfig: { OnFailure: { Destination: { 'Fn::GetAtt': [dlq, 'Arn'] } } },
    });
  });

  it('sends to the Slack webhook and the email topic, reads the table, and is told the digest settings', () => {
    const [, fn] = digestFunction(everything.template) ?? [];
    const vars = fn?.Properties.Environment.Variables;
    // The Slack URL stays in the Slack subscription's secret: the digest reads it there, not from its env.
    expect(JSON.stringify(vars)).not.toContain('hooks.slack.com');
    expect(vars).toMatchObject({
      TIME_ZONE: 'Europe/London',
      DIGEST_WHEN_EMPTY: 'true',
      SLACK_WEBHOOK_SECRET_ARN: { Ref: expect.stringMatching(/^Slack/) },
      DIGEST_TOPIC_ARN: { Ref: expect.stringMatching(/^EmailTopic/) },
      TABLE_NAME: { Ref: expect.stringMatching(/^State/) },
    });
    const statements = Object.values(everything.template.findResources('AWS::IAM::Policy'))
      .filter((p) => JSON.stringify(p.Properties.Roles).includes('DigestFunction'))
      .flatMap((p) => p.Properties.PolicyDocument.Statement) as Array<{
      Action: string | string[];
      Resource: unknown;
    }>;
    const secretReads = statements.filter((s) => [s.Action].flat().includes('secretsmanager:GetSecretValue'));
    // The only secret it reads is the Slack webhook's: never the Uphance credentials.
    expect(secretReads.map((s) => JSON.stringify(s.Resource))).toEqual([expect.stringMatching(/"Slack/)]);
    const actions = statements.filter((s) => !secretReads.includes(s)).flatMap((s) => [s.Action].flat());
    expect(actions).toEqual(
      expect.arrayContaining(['dynamodb:Query', 'dynamodb:BatchGetItem', 'dynamodb:PutItem', 'sns:Publish']),
    );
    // It never calls Uphance: no access to the credentials, nor to the bus.
    expect(actions).not.toContain('secretsmanager:GetSecretValue');
    expect(actions).not.toContain('events:PutEvents');
    expect(actions).not.toContain('dynamodb:DeleteItem');
  });

  it('reads the state and may write only its marker items: their partitions, their attributes', () => {
    const dynamoStatements = (t: Template) =>
      Object.values(t.findResources('AWS::IAM::Policy'))
        .filter((p) => JSON.stringify(p.Properties.Roles).includes('DigestFunction'))
        .flatMap((p) => p.Properties.PolicyDocument.Statement as Array<Record<string, unknown>>)
        .filter((s) => [s.Action].flat().some((a) => String(a).startsWith('dynamodb:')));
    const tableArn = { 'Fn::GetAtt': [expect.stringMatching(/^State/), 'Arn'] };
    const marker = {
      Effect: 'Allow',
      Action: 'dynamodb:PutItem',
      Resource: tableArn,
      Condition: {
        'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': ['digest#*'] },
        'ForAllValues:StringEquals': { 'dynamodb:Attributes': ['pk', 'sk', 'lastDigestAt', 'until', 'run'] },
        Null: { 'dynamodb:LeadingKeys': 'false' },
      },
    };
    const statements = dynamoStatements(everything.template);
    // Reading is unconditioned, and is all it may do without conditions.
    const unconditioned = statements.filter((s) => s.Condition === undefined);
    expect(unconditioned.flatMap((s) => [s.Action].flat()).sort()).toEqual([
      'dynamodb:BatchGetItem',
      'dynamodb:GetItem',
      'dynamodb:Query',
    ]);
    // Its one write: PutItem of the marker's attributes in marker partitions (digest#...), never in the
    // state partitions (org#..., cred#...), whose snapshots, leases and journal it cannot touch.
    expect(statements.filter((s) => s.Condition !== undefined)).toEqual([marker]);
    // The marker writes exactly the attributes the policy allows, in the partition it allows.
    expect(MARKER_ATTRIBUTES).toEqual(['pk', 'sk', 'lastDigestAt', 'until', 'run']);
    expect(markerKey('35802')).toEqual({ pk: 'digest#35802', sk: 'digest' });
  });

  it('alarms on its errors, and is absent without a Slack or email subscription', () => {
    const [id] = digestFunction(everything.template) ?? [];
    const alarms = Object.values(everything.template.findResources('AWS::CloudWatch::Alarm')).map(
      (a) => a.Properties,
    );
    expect(
      alarms.some((a) => a.MetricName === 'Errors' && JSON.stringify(a.Dimensions).includes(id ?? '?')),
    ).toBe(true);
    expect(digestFunction(base.template)).toBeUndefined();
    base.template.resourceCountIs('AWS::Scheduler::Schedule', 1);
  });
});

describe('example consumer', () => {
  it('is a Lambda on StageCompleted with an idempotency table', () => {
    everything.template.hasResourceProperties('AWS::DynamoDB::Table', {
      KeySchema: [{ AttributeName: 'id', KeyType: 'HASH' }],
      TimeToLiveSpecification: { AttributeName: 'expiration', Enabled: true },
    });
    const rule = Object.values(everything.template.findResources('AWS::Events::Rule')).find((r) =>
      JSON.stringify(r.Properties.Targets).includes('ExampleConsumer'),
    );
    expect(rule?.Properties.EventPattern['detail-type']).toEqual(['StageCompleted']);
  });
});

describe('cdk-nag AwsSolutions', () => {
  it.each([
    ['the default stack', () => base],
    ['the stack with every option', () => everything],
  ])('%s has no unacknowledged finding', (_name, get) => {
    const { stack } = get();
    const errors = Annotations.fromStack(stack).findError('*', Match.stringLikeRegexp('AwsSolutions-.*'));
    const warnings = Annotations.fromStack(stack).findWarning('*', Match.stringLikeRegexp('AwsSolutions-.*'));
    expect(errors.map((e) => `${e.id}: ${e.entry.data}`)).toEqual([]);
    expect(warnings.map((e) => `${e.id}: ${e.entry.data}`)).toEqual([]);
  });

  it('every acknowledgement carries its reason', () => {
    const found: Array<{ id: string; reason: string }> = [];
    const walk = (value: unknown): void => {
      if (Array.isArray(value)) value.forEach(walk);
      else if (value && typeof value === 'object') {
        for (const [key, child] of Object.entries(value)) {
          if (key === 'rules_to_suppress') found.push(...(child as Array<{ id: string; reason: string }>));
          else walk(child);
        }
      }
    };
    walk(everything.template.toJSON());
    expect(found.map((f) => f.id)).toEqual(
      expect.arrayContaining([
        'AwsSolutions-IAM4',
        'AwsSolutions-IAM5',
        'AwsSolutions-SQS3',
        'AwsSolutions-SMG4',
        'AwsSolutions-APIG4',
      ]),
    );
    for (const suppression of found) expect(suppression.reason.length).toBeGreaterThan(30);
  });
});

describe('context', () => {
  it('reads the deploy settings and names a bad one', () => {
    const context: Record<string, string> = {
      scheduleMinutes: '2',
      slackWebhookUrl: 'https://hooks.slack.com/services/x',
      slackDetailTypes: 'StageCompleted,OrderAllReceived',
      emailAddresses: 'a@b.c, d@e.f',
      uphanceSecretArn: 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:u-AbCdEf',
      uphanceSecretKmsKeyArn: 'arn:aws:kms:eu-west-1:123456789012:key/k',
    };
    expect(propsFromContext((k) => context[k])).toMatchObject({
      scheduleMinutes: 2,
      slack: { detailTypes: ['StageCompleted', 'OrderAllReceived'] },
      email: { addresses: ['a@b.c', 'd@e.f'] },
      uphanceSecretKmsKeyArn: 'arn:aws:kms:eu-west-1:123456789012:key/k',
    });
    expect(() =>
      propsFromContext((k) => ({ slackWebhookUrl: 'https://x', slackDetailTypes: 'StageDone' })[k]),
    ).toThrow(/unknown detail-type "StageDone"/);
    expect(
      propsFromContext(
        (k) => ({ digestHour: '6', digestTimeZone: 'Europe/Paris', digestWhenEmpty: 'true' })[k],
      ),
    ).toMatchObject({ digestHour: 6, digestTimeZone: 'Europe/Paris', digestWhenEmpty: true });
    expect(() => propsFromContext((k) => ({ digestHour: 'dawn' })[k])).toThrow(
      /digestHour must be a whole number/,
    );
    expect(() => propsFromContext((k) => ({ scheduleMinutes: 'often' })[k])).toThrow(
      /scheduleMinutes must be a whole number/,
    );
  });

  it('passes the signal settings to the poll and check functions and names a bad one', () => {
    const context: Record<string, string> = {
      timeZone: 'Europe/London',
      dueSoonDays: '3',
      stallDays: '10',
      stallDaysByStage: 'Sewing=14,Packing=3',
      riskDays: '2',
      slack: 'true',
    };
    const props = propsFromContext((k) => context[k]);
    expect(props.signals).toEqual({
      timeZone: 'Europe/London',
      dueSoonDays: 3,
      stallDays: 10,
      stallDaysByStage: 'Sewing=14,Packing=3',
      riskDays: 2,
    });
    expect(props.slack).toMatchObject({ webhookUrl: undefined, detailTypes: [] });
    const { template } = synth({ signals: props.signals, webhook: true }, false);
    // The poll worker and the webhook check function diff with the same settings.
    for (const description of [
      'Polls one Uphance organisation',
      'Checks production orders named by webhooks',
    ]) {
      template.hasResourceProperties('AWS::Lambda::Function', {
        Description: Match.stringLikeRegexp(`^${description}`),
        Environment: {
          Variables: Match.objectLike({
            TIME_ZONE: 'Europe/London',
            DUE_SOON_DAYS: '3',
            STALL_DAYS: '10',
            STALL_DAYS_BY_STAGE: 'Sewing=14,Packing=3',
            RISK_DAYS: '2',
          }),
        },
      });
    }
    expect(() => propsFromContext((k) => ({ timeZone: 'Mars/Olympus' })[k])).toThrow(
      /context timeZone: TIME_ZONE/,
    );
    expect(() => propsFromContext((k) => ({ stallDaysByStage: 'Sewing' })[k])).toThrow(
      /context stallDaysByStage: STALL_DAYS_BY_STAGE must read like/,
    );
    expect(() => propsFromContext((k) => ({ riskDays: 'soon' })[k])).toThrow(
      /context riskDays: RISK_DAYS must be a whole number of days/,
    );
  });
});
