import { statSync } from 'node:fs';
import { join } from 'node:path';
import { App, Aspects } from 'aws-cdk-lib';
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import { AwsSolutionsChecks } from 'cdk-nag';
import { beforeAll, describe, expect, it } from 'vitest';
import { DETAIL_TYPES } from '../../functions/core/events/catalogue.js';
import { propsFromContext } from '../../infra/context.js';
import type { NotifierStackProps } from '../../infra/notifier-stack.js';
import { NotifierStack } from '../../infra/notifier-stack.js';

const synth = (props: NotifierStackProps = {}) => {
  // Asset metadata lets the bundle-size test find the staged bundle, as `cdk synth` does.
  const app = new App({ context: { 'aws:cdk:enable-asset-metadata': true } });
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
  digestHour: 18,
  digestTimeZone: 'Europe/London',
  digestWhenEmpty: true,
};

let base: ReturnType<typeof synth>;
let everything: ReturnType<typeof synth>;
beforeAll(() => {
  base = synth();
  everything = synth(full);
});

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
    synth({ retainData: false }).template.hasResource('AWS::DynamoDB::Table', { DeletionPolicy: 'Delete' });
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
});

describe('poll function and schedule', () => {
  it('is Node 22 on arm64, traced, 512 MB, a timeout 20 s short of the schedule, with its configuration', () => {
    base.template.hasResourceProperties('AWS::Lambda::Function', {
      Runtime: 'nodejs22.x',
      Architectures: ['arm64'],
      MemorySize: 512,
      Timeout: 280,
      TracingConfig: { Mode: 'Active' },
      Environment: {
        Variables: Match.objectLike({
          TABLE_NAME: Match.anyValue(),
          EVENT_BUS_NAME: Match.anyValue(),
          UPHANCE_SECRET_ARN: Match.anyValue(),
          CYCLE_BUDGET_SECONDS: '225',
          NODE_OPTIONS: '--enable-source-maps',
        }),
      },
    });
  });

  it('keeps the timeout below a short schedule period, so that the next run finds a killed run’s lease expired', () => {
    synth({ scheduleMinutes: 1 }).template.hasResourceProperties('AWS::Lambda::Function', {
      Timeout: 40,
      Environment: { Variables: Match.objectLike({ CYCLE_BUDGET_SECONDS: '10' }) },
    });
  });

  it('has no asynchronous retries (the schedule and the lease handle a failed run)', () => {
    base.template.hasResourceProperties('AWS::Lambda::EventInvokeConfig', {
      MaximumRetryAttempts: 0,
      FunctionName: Match.anyValue(),
    });
  });

  it('alarms when the bus refuses events for good (set aside, to be resent)', () => {
    base.template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      MetricName: 'EventsSetAside',
      Namespace: 'UphanceNotifier',
      Threshold: 1,
    });
  });

  it('writes to an explicit log group with retention', () => {
    base.template.hasResourceProperties('AWS::Logs::LogGroup', { RetentionInDays: 30 });
    base.template.hasResourceProperties('AWS::Lambda::Function', {
      LoggingConfig: { LogGroup: Match.anyValue() },
    });
  });

  it('is granted exactly the DynamoDB calls it makes, PutEvents on its bus and the secret', () => {
    const policies = base.template.findResources('AWS::IAM::Policy');
    const statements = Object.values(policies)
      .filter((p) => JSON.stringify(p.Properties.Roles).includes('PollFunction'))
      .flatMap((p) => p.Properties.PolicyDocument.Statement);
    const actions = statements.flatMap((s: { Action: string | string[] }) => [s.Action].flat());
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
      ]),
    );
    expect(actions).not.toContain('dynamodb:Scan');
    expect(actions).not.toContain('dynamodb:BatchWriteItem');
    expect(actions.some((a: string) => a.endsWith(':*'))).toBe(false);
  });

  it('runs on an EventBridge Scheduler rate without retries', () => {
    base.template.hasResourceProperties('AWS::Scheduler::Schedule', {
      ScheduleExpression: 'rate(5 minutes)',
      State: 'ENABLED',
      Target: Match.objectLike({ RetryPolicy: { MaximumRetryAttempts: 0, MaximumEventAgeInSeconds: 300 } }),
    });
    everything.template.hasResourceProperties('AWS::Scheduler::Schedule', {
      ScheduleExpression: 'rate(10 minutes)',
    });
  });

  it('creates the credentials secret, or uses an existing one by ARN', () => {
    base.template.resourceCountIs('AWS::SecretsManager::Secret', 1);
    // Created holding an empty token, so that the poller reports the missing value instead of a 401.
    base.template.hasResourceProperties('AWS::SecretsManager::Secret', {
      GenerateSecretString: { SecretStringTemplate: '{"token":""}', GenerateStringKey: 'unset' },
    });
    const arn = 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:uphance-AbCdEf';
    const existing = synth({ uphanceSecretArn: arn });
    existing.template.resourceCountIs('AWS::SecretsManager::Secret', 0);
    existing.template.hasResourceProperties('AWS::Lambda::Function', {
      Environment: { Variables: Match.objectLike({ UPHANCE_SECRET_ARN: arn }) },
    });
  });

  it('bundles the poll function under 1 MB', () => {
    const fn = base.stack.node.findChild('PollFunction').node.defaultChild as unknown as {
      cfnOptions: unknown;
      getMetadata(key: string): string;
    };
    const assetPath = fn.getMetadata('aws:asset:path');
    const size = statSync(join(base.app.outdir, assetPath, 'index.mjs')).size;
    process.stderr.write(`poll function bundle: ${(size / 1024).toFixed(1)} KiB\n`);
    expect(size).toBeLessThan(1024 * 1024);
  });
});

describe('subscriptions', () => {
  it('Slack: an API destination with a readable message, the chosen stage names, retries and a DLQ', () => {
    everything.template.resourceCountIs('AWS::Events::Connection', 1);
    everything.template.hasResourceProperties('AWS::Events::ApiDestination', {
      HttpMethod: 'POST',
      InvocationEndpoint: 'https://hooks.slack.com/services/T000/B000/XXXX',
    });
    const rules = Object.values(everything.template.findResources('AWS::Events::Rule')).filter((r) =>
      JSON.stringify(r.Properties.Targets).includes('ApiDestination'),
    );
    expect(rules).toHaveLength(1);
    const rule = rules[0]!.Properties;
    expect(rule.EventPattern).toEqual({
      source: ['uphance.production-orders'],
      'detail-type': ['StageCompleted'],
      detail: { stage: { name: ['Sewing'] } },
    });
    const target = rule.Targets[0];
    expect(target.InputTransformer.InputTemplate).toBe(
      '{"text":"PO <detail-order-number> · <detail-order-companyName> · <detail-stage-name> completed · <detail-lineItem-productName> <detail-lineItem-color>"}',
    );
    expect(target.RetryPolicy).toEqual({ MaximumRetryAttempts: 20, MaximumEventAgeInSeconds: 21600 });
    expect(target.DeadLetterConfig.Arn).toBeDefined();
  });

  it('email: an encrypted SNS topic, one subscription per address, a readable message, a DLQ', () => {
    everything.template.hasResourceProperties('AWS::SNS::Subscription', {
      Protocol: 'email',
      Endpoint: 'ops@brand.example',
    });
    everything.template.hasResourceProperties('AWS::SNS::Subscription', {
      Protocol: 'email',
      Endpoint: 'buyer@brand.example',
    });
    const rule = Object.values(everything.template.findResources('AWS::Events::Rule')).find((r) =>
      JSON.stringify(r.Properties.EventPattern).includes('OrderAllReceived'),
    )!.Properties;
    expect(rule.Targets[0].InputTransformer.InputTemplate).toBe(
      '"PO <detail-order-number> · <detail-order-companyName> · all received"',
    );
    expect(rule.Targets[0].DeadLetterConfig).toBeDefined();
    everything.template.hasResourceProperties('AWS::SNS::Topic', {
      DisplayName: 'Uphance production orders',
      KmsMasterKeyId: Match.anyValue(),
    });
  });

  it('none unless configured', () => {
    base.template.resourceCountIs('AWS::Events::ApiDestination', 0);
    expect(JSON.stringify(base.template.findResources('AWS::SNS::Subscription'))).toBe('{}');
  });
});

describe('observability', () => {
  it('alarms on errors, a missing heartbeat, PutEvents failures and each DLQ, to the alarm topic', () => {
    const alarms = Object.values(everything.template.findResources('AWS::CloudWatch::Alarm')).map(
      (a) => a.Properties,
    );
    const byMetric = (name: string) => alarms.filter((a) => a.MetricName === name);
    // The poll function's and the digest function's.
    expect(byMetric('Errors')).toHaveLength(2);
    expect(byMetric('CycleCompleted')[0]).toMatchObject({
      ComparisonOperator: 'LessThanThreshold',
      EvaluationPeriods: 3,
      TreatMissingData: 'breaching',
      Namespace: 'UphanceNotifier',
    });
    expect(byMetric('PutEventsFailures')).toHaveLength(1);
    // Slack, email, example consumer and the digest schedule.
    expect(byMetric('ApproximateNumberOfMessagesVisible')).toHaveLength(4);
    for (const alarm of alarms) expect(alarm.AlarmActions).toHaveLength(1);
    everything.template.hasResourceProperties('AWS::SNS::Subscription', {
      Protocol: 'email',
      Endpoint: 'oncall@brand.example',
    });
    everything.template.resourceCountIs('AWS::CloudWatch::Dashboard', 1);
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
        DeadLetterConfig: { Arn: Match.anyValue() },
      }),
    });
  });

  it('sends to the Slack webhook and the email topic, reads the table, and is told the digest settings', () => {
    const [, fn] = digestFunction(everything.template) ?? [];
    const vars = fn?.Properties.Environment.Variables;
    expect(vars).toMatchObject({
      TIME_ZONE: 'Europe/London',
      DIGEST_WHEN_EMPTY: 'true',
      SLACK_WEBHOOK_URL: 'https://hooks.slack.com/services/T000/B000/XXXX',
      DIGEST_TOPIC_ARN: { Ref: expect.stringMatching(/^EmailTopic/) },
      TABLE_NAME: { Ref: expect.stringMatching(/^State/) },
    });
    const actions = Object.values(everything.template.findResources('AWS::IAM::Policy'))
      .filter((p) => JSON.stringify(p.Properties.Roles).includes('DigestFunction'))
      .flatMap((p) => p.Properties.PolicyDocument.Statement)
      .flatMap((s: { Action: string | string[] }) => [s.Action].flat());
    expect(actions).toEqual(
      expect.arrayContaining(['dynamodb:Query', 'dynamodb:BatchGetItem', 'dynamodb:PutItem', 'sns:Publish']),
    );
    // It never calls Uphance: no access to the credentials, nor to the bus.
    expect(actions).not.toContain('secretsmanager:GetSecretValue');
    expect(actions).not.toContain('events:PutEvents');
    expect(actions).not.toContain('dynamodb:DeleteItem');
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
    };
    expect(propsFromContext((k) => context[k])).toMatchObject({
      scheduleMinutes: 2,
      slack: { detailTypes: ['StageCompleted', 'OrderAllReceived'] },
      email: { addresses: ['a@b.c', 'd@e.f'] },
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
});
