import type { ChildProcess } from 'node:child_process';
import { spawn } from 'node:child_process';
import { cpus, totalmem } from 'node:os';
import type { Readable } from 'node:stream';
import { PurgeQueueCommand } from '@aws-sdk/client-sqs';
import { DynamoRegistry } from '../functions/adapters/dynamodb-registry.js';
import { localDynamoDb, localSqs } from '../local-aws/clients.js';
import { createTable, startDynamoDbLocal } from '../local-aws/dynamodb-local.js';
import { startLocalEventBridge } from '../local-aws/eventbridge-local.js';
import { startLocalSecrets } from '../local-aws/secrets-local.js';
import { startLocalSqs } from '../local-aws/sqs-local.js';
import { generateOrders } from '../simulator/generator.js';
import { toFilterWord } from '../simulator/model.js';
import { startSimulator } from '../simulator/server.js';
import type { CycleCounts, DispatchCounts } from './cost-model.js';
import { costTable, DEFAULT_DEPLOYMENT, monthlyCost, notifierMonth } from './cost-model.js';
import { PRICES } from './prices.js';

/**
 * `npm run bench:fanout`: the deployed fan-out, measured locally. The dispatcher and each poll worker run
 * in processes of their own (as Lambda runs them) against the simulator (BENCH_LATENCY_MS a request,
 * default 300; one organisation answering 10 s a request, one with rejected credentials; each with its own
 * token), DynamoDB Local, the local PutEvents endpoint and the local SQS FIFO queue. A baseline period, then
 * one quiet period (a few orders changed) per worker concurrency; each period is cut at 5 minutes.
 * Environment: BENCH_FANOUT_ORGS (200), BENCH_CONCURRENCY (1,5,10,20), BENCH_ORDERS_PER_ORG (50).
 */
const env = process.env;
const organisationCount = Number(env.BENCH_FANOUT_ORGS ?? 200);
const levels = (env.BENCH_CONCURRENCY ?? '1,5,10,20').split(',').map(Number);
const latencyMs = Number(env.BENCH_LATENCY_MS ?? 300);
const ordersPerOrganisation = Number(env.BENCH_ORDERS_PER_ORG ?? 50);
const PERIOD_MS = 300_000;
const SLOW_MS = 10_000;

const ids = Array.from({ length: organisationCount }, (_, i) => 70_001 + i);
const slow = ids[7] as number;
const rejected = ids[13] as number;
const healthy = ids.filter((id) => id !== rejected);
const fast = healthy.filter((id) => id !== slow);

const dynamo = await startDynamoDbLocal();
const [bus, secrets, sqs] = await Promise.all([
  startLocalEventBridge(),
  startLocalSecrets(),
  startLocalSqs(),
]);
const sim = await startSimulator({
  latencyMs,
  organisations: ids.map((id) => ({ id, name: `Label ${id}` })),
  // Each organisation has a token of its own; the rejected one's is not accepted.
  tokenOrganisations: Object.fromEntries(healthy.map((id) => [`tok-${id}`, [id]])),
  organisationLatencyMs: { [slow]: SLOW_MS - latencyMs },
  orders: ids.flatMap((id, i) =>
    generateOrders({
      count: ordersPerOrganisation,
      seed: id,
      organisationId: id,
      firstId: 100_000 + i * 1_000,
      firstNumber: 10_000 + i * 1_000,
    }),
  ),
});
const tableName = 'fanout-bench';
const client = localDynamoDb(dynamo.endpoint);
await createTable(client, tableName);
const secretId = 'arn:aws:secretsmanager:us-east-1:123456789012:secret:uphance-bench';
secrets.secrets.set(
  secretId,
  JSON.stringify({
    organisations: Object.fromEntries(ids.map((id) => [String(id), { token: `tok-${id}` }])),
  }),
);
// Organisations as data: every one registered with its own credentials.
const registry = new DynamoRegistry({ client, tableName });
for (const id of ids) await registry.add(id, 'own', Date.now());
const queueUrl = `${sqs.url}/123456789012/poll.fifo`;

const lambdaEnv = {
  ...env,
  AWS_REGION: 'us-east-1',
  AWS_ACCESS_KEY_ID: 'local',
  AWS_SECRET_ACCESS_KEY: 'local',
  AWS_ENDPOINT_URL_DYNAMODB: dynamo.endpoint,
  AWS_ENDPOINT_URL_EVENTBRIDGE: bus.url,
  AWS_ENDPOINT_URL_SECRETS_MANAGER: secrets.url,
  AWS_ENDPOINT_URL_SQS: sqs.url,
  POWERTOOLS_TRACE_ENABLED: 'false',
  POWERTOOLS_METRICS_NAMESPACE: 'UphanceNotifier',
  POWERTOOLS_LOG_LEVEL: 'INFO',
  POWERTOOLS_DEV: 'false',
  NODE_NO_WARNINGS: '1',
  // What the stack sets (a 5-minute schedule: a 240 s timeout, a 185 s budget).
  TABLE_NAME: tableName,
  EVENT_BUS_NAME: 'bench',
  UPHANCE_SECRET_ARN: secretId,
  UPHANCE_API_URL: sim.url,
  POLL_QUEUE_URL: queueUrl,
  CYCLE_BUDGET_SECONDS: '185',
  SCHEDULE_MINUTES: '5',
  HEARTBEAT_INTERVALS: '3',
  BENCH_WORKER_TIMEOUT_MS: '240000',
};

const lines = (stream: Readable, each: (value: Record<string, unknown>) => void) => {
  let buffer = '';
  stream.on('data', (chunk) => {
    buffer += String(chunk);
    let newline = buffer.indexOf('\n');
    while (newline >= 0) {
      each(JSON.parse(buffer.slice(0, newline)));
      buffer = buffer.slice(newline + 1);
      newline = buffer.indexOf('\n');
    }
  });
};

const lambda = (
  mode: 'dispatch' | 'work',
  extra: Record<string, string>,
  each: (v: Record<string, unknown>) => void,
) => {
  const child = spawn(process.execPath, ['--import', 'tsx', 'bench/fanout-worker.ts', mode], {
    env: { ...lambdaEnv, ...extra },
    stdio: ['ignore', 'inherit', 'inherit', 'pipe'],
  });
  lines(child.stdio[3] as Readable, (value) => {
    if (value.crash) process.stderr.write(`bench: a ${mode} process crashed: ${value.crash}\n`);
    each(value);
  });
  return child;
};
const exited = (child: ChildProcess) =>
  new Promise<void>((resolve) => (child.exitCode !== null ? resolve() : child.once('exit', () => resolve())));

interface Result {
  organisationId: number;
  outcome: string;
  startedAt: number;
  finishedAt: number;
  wallMs: number;
  logBytes: number;
  usage?: { apiCalls: number; readUnits: number; writeUnits: number; putEventsEntries: number };
  events: number;
  baseline: boolean;
  error?: string;
}
interface Dispatched {
  wallMs: number;
  logBytes: number;
  result: { queued: number; usage: { readUnits: number; writeUnits: number } };
}

/** One period: `workers` warm poll workers, the dispatcher, until every organisation is done or 5 minutes pass. */
const period = async (label: string, workers: number) => {
  const results = new Map<number, Result>();
  let retries = 0;
  let ready = 0;
  const pool = Array.from({ length: workers }, () =>
    lambda('work', {}, (v) => {
      if (v.ready) ready++;
      else if (v.outcome === 'lease-held') retries++;
      else if (typeof v.organisationId === 'number') results.set(v.organisationId, v as unknown as Result);
    }),
  );
  // Warm workers long-polling before the period starts, as the event source keeps them.
  while (ready < workers) await new Promise((r) => setTimeout(r, 100));
  const t0 = Date.now();
  let dispatched: Dispatched | undefined;
  await exited(
    lambda('dispatch', { BENCH_SCHEDULED_TIME: new Date(t0).toISOString() }, (v) => {
      dispatched = v as unknown as Dispatched;
    }),
  );
  while (results.size < ids.length && Date.now() - t0 < PERIOD_MS)
    await new Promise((r) => setTimeout(r, 200));
  for (const child of pool) child.kill('SIGTERM');
  await Promise.all(pool.map(exited));
  await localSqs(sqs.url).send(new PurgeQueueCommand({ QueueUrl: queueUrl }));
  const within = (id: number) => {
    const r = results.get(id);
    return (
      r !== undefined &&
      (r.outcome === 'completed' || r.outcome === 'budget-exhausted') &&
      r.finishedAt - t0 <= PERIOD_MS
    );
  };
  const doneAt = (group: number[]) =>
    Math.max(...group.filter(within).map((id) => (results.get(id) as Result).finishedAt - t0));
  const fastDone = fast.filter(within).length;
  const fastSeconds = doneAt(fast) / 1000;
  return {
    label,
    workers,
    results,
    dispatched,
    retries,
    healthyDone: healthy.filter(within).length,
    fastDone,
    fastSeconds,
    slowSeconds: within(slow)
      ? ((results.get(slow) as Result).finishedAt - (results.get(slow) as Result).startedAt) / 1000
      : Number.NaN,
    allSeconds: doneAt(healthy) / 1000,
    perMinute: fastDone / (fastSeconds / 60),
    rejectedReported: results.get(rejected)?.outcome === 'failed',
  };
};

/** One watched order changes in every twentieth organisation before a quiet period: events on the bus. */
const watchedOf = (i: number) => {
  for (let id = 100_000 + i * 1_000; id < 100_000 + i * 1_000 + ordersPerOrganisation; id++)
    if (['draft', 'confirmed'].includes(toFilterWord(sim.state.get(id).raw.status))) return id;
  return undefined;
};
let due = 0;
const change = () => {
  due++;
  for (const [i] of ids.entries()) {
    const id = i % 20 === 0 ? watchedOf(i) : undefined;
    if (id !== undefined) sim.state.setDueDate(id, `2027-0${1 + (due % 9)}-1${i % 10}`);
  }
};

const rows: Array<Awaited<ReturnType<typeof period>>> = [];
const wall = Date.now();
const firstWorkers = Number(env.BENCH_BASELINE_CONCURRENCY ?? 10);
rows.push(await period('baseline', firstWorkers));
// The first cycle after the baseline reads every watched snapshot once and builds the index.
rows.push(await period('first (index built)', firstWorkers));
for (const workers of levels) {
  change();
  const before = bus.events.length;
  const row = await period(`quiet, ${Math.ceil(organisationCount / 20)} orders changed`, workers);
  rows.push(row);
  process.stderr.write(
    `bench: ${workers} workers: ${row.healthyDone}/${healthy.length} healthy done in ${row.allSeconds.toFixed(0)} s, ${bus.events.length - before} events\n`,
  );
}

const f = (n: number, digits = 0) => (Number.isFinite(n) ? n.toFixed(digits) : '-');
const table = [
  '| period | workers | healthy done within 5 min | fast ones done in | slow one (10 s a request) | all healthy done in | organisations a minute | rejected one reported | lease-held retries |',
  '| --- | --- | --- | --- | --- | --- | --- | --- | --- |',
  ...rows.map(
    (r) =>
      `| ${r.label} | ${r.workers} | ${r.healthyDone} of ${healthy.length}${r.healthyDone === healthy.length ? '' : ' ✗'} | ${f(r.fastSeconds)} s (${r.fastDone} of ${fast.length}) | ${f(r.slowSeconds)} s | ${f(r.allSeconds)} s | ${f(r.perMinute)} | ${r.rejectedReported ? 'yes' : 'no'} | ${r.retries} |`,
  ),
].join('\n');

// The month: every organisation's cycles like the quiet period's at the default concurrency (10), the
// mean over the fleet measured (the slow and the rejected one included).
const reference =
  rows.find((r) => r.label.startsWith('quiet') && r.workers === DEFAULT_DEPLOYMENT.workerConcurrency) ??
  (rows.at(-1) as (typeof rows)[number]);
const all = [...reference.results.values()].filter((r) => r.usage);
const mean = (of: (r: Result) => number) => all.reduce((a, r) => a + of(r), 0) / all.length;
const perOrganisation: CycleCounts = {
  wallMs: mean((r) => r.wallMs),
  readUnits: mean((r) => r.usage?.readUnits ?? 0),
  writeUnits: mean((r) => r.usage?.writeUnits ?? 0),
  putEventsEntries: mean((r) => r.usage?.putEventsEntries ?? 0),
  logBytes: mean((r) => r.logBytes),
};
const measuredDispatch = reference.dispatched as Dispatched;
const median = (values: number[]) =>
  [...values].sort((x, y) => x - y)[Math.floor(values.length / 2)] ?? Number.NaN;
const fastResults = fast.map((id) => reference.results.get(id)).filter((r): r is Result => r !== undefined);
const typical = {
  wallMs: median(fastResults.map((r) => r.wallMs)),
  apiCalls: median(fastResults.map((r) => r.usage?.apiCalls ?? 0)),
  rejectedMs: reference.results.get(rejected)?.wallMs ?? Number.NaN,
};
/** A dispatch of n organisations, scaled from the measured one (its reads and time grow with them). */
const dispatchOf = (n: number): DispatchCounts => ({
  wallMs: Math.max(100, (measuredDispatch.wallMs * n) / organisationCount),
  readUnits: Math.max(1, (measuredDispatch.result.usage.readUnits * n) / organisationCount),
  writeUnits: 0,
  logBytes: measuredDispatch.logBytes,
});
const costs = [10, 100, 1_000].map((n) => ({
  label: n.toLocaleString('en-US'),
  cost: monthlyCost(notifierMonth(perOrganisation, perOrganisation), DEFAULT_DEPLOYMENT, PRICES, {
    organisations: n,
    dispatch: dispatchOf(n),
  }),
}));
const machine = `${cpus().length} × ${cpus()[0]?.model.trim() ?? 'cpu'}, ${Math.round(totalmem() / 2 ** 30)} GiB, node ${process.version}`;
process.stdout.write(
  [
    '',
    `${organisationCount} organisations (${ordersPerOrganisation} orders each, each with its own token; ${slow} answers ${SLOW_MS / 1000} s a request, ${rejected} has its credentials rejected), Uphance latency ${latencyMs} ms a request; workers as processes long-polling the local SQS FIFO queue; each period cut at 5 minutes:`,
    '',
    table,
    '',
    `per organisation and quiet cycle (${reference.workers} workers): wall ${f(perOrganisation.wallMs)} ms, ${f(perOrganisation.readUnits, 1)} RCU, ${f(perOrganisation.writeUnits, 1)} WCU, ${f(perOrganisation.putEventsEntries, 2)} PutEvents entries, ${f(perOrganisation.logBytes ?? 0)} log bytes`,
    `a fast organisation's quiet cycle (median): ${f(typical.apiCalls)} Uphance requests, ${f(typical.wallMs)} ms; the rejected one's: ${f(typical.rejectedMs)} ms`,
    `dispatch of ${organisationCount}: ${f(measuredDispatch.wallMs)} ms, ${f(measuredDispatch.result.usage.readUnits, 1)} RCU, ${f(measuredDispatch.logBytes)} log bytes`,
    '',
    `Monthly AWS cost, ${PRICES.region} list prices of ${PRICES.date} (bench/prices.ts); 5-minute schedule, every organisation's cycles like the measured quiet one, ${DEFAULT_DEPLOYMENT.alarms} alarms and ${DEFAULT_DEPLOYMENT.customMetrics} metrics whatever their number:`,
    '',
    costTable(costs, 'organisations'),
    '',
    `(an alarm pair and two metrics of each organisation's own would add, at 1,000: $${(1_000 * 2 * PRICES.cloudwatch.alarmMonth + 1_000 * 2 * PRICES.cloudwatch.metricMonth).toFixed(0)} a month)`,
    `machine: ${machine}; bench took ${((Date.now() - wall) / 60_000).toFixed(1)} min`,
    '',
  ].join('\n'),
);
await Promise.all([sim.close(), bus.close(), secrets.close(), sqs.close()]);
await dynamo.stop();
