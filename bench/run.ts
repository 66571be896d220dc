import { execFileSync, spawn } from 'node:child_process';
import { mkdirSync, statSync, writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { build } from 'esbuild';
import { localDynamoDb } from '../local-aws/clients.js';
import { createTable, startDynamoDbLocal } from '../local-aws/dynamodb-local.js';
import { startLocalEventBridge } from '../local-aws/eventbridge-local.js';
import { generateOrders } from '../simulator/generator.js';
import { toFilterWord } from '../simulator/model.js';
import { seededRandom } from '../simulator/random.js';
import { startSimulator } from '../simulator/server.js';
import { hasWorkLeft } from '../simulator/state.js';
import type { CycleCounts, MonthlyCost } from './cost-model.js';
import {
  costTable,
  monthlyCost,
  naiveMonth,
  notifierMonth,
  WORKER_LOG_BYTES,
  WORKER_RUN_RECORD,
} from './cost-model.js';
import { PRICES } from './prices.js';

/**
 * `npm run bench`: what a poll cycle costs at scale. The simulator (with a latency per request), DynamoDB
 * Local and a local PutEvents endpoint run here; each cycle runs in a worker process of its own.
 * Environment: BENCH_SIZES (default 1000,10000,50000), BENCH_LATENCY_MS (default 100).
 */
const sizes = (process.env.BENCH_SIZES ?? '1000,10000,50000').split(',').map(Number);
const latencyMs = Number(process.env.BENCH_LATENCY_MS ?? 100);
/** Items a cycle with no change may read: lease, checkpoint, journal and the index (issue 15). */
const QUIET_ITEMS = 20;

interface WorkerResult {
  report: {
    ordersScanned: number;
    snapshotsWritten: number;
    events: number;
    lookups: number;
    outcome: string;
  };
  wallMs: number;
  uphance: { requests: number; waitingMs: number };
  dynamodb: {
    reads: number;
    writes: number;
    batchGets: number;
    /** Absent in figures from before the counter existed. */
    itemsRead?: number;
    readCapacity: number;
    writeCapacity: number;
  };
  putEvents: { calls: number; entries: number };
  peakRssMb: number;
}

const dynamo = await startDynamoDbLocal();
const bus = await startLocalEventBridge();
const sim = await startSimulator({ latencyMs });

const worker = (table: string, extraEnv: Record<string, string> = {}): Promise<WorkerResult> =>
  new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'bench/cycle-worker.ts'], {
      env: {
        ...process.env,
        BENCH_API_URL: sim.url,
        BENCH_DYNAMODB: dynamo.endpoint,
        BENCH_EVENTBRIDGE: bus.url,
        BENCH_TABLE: table,
        NODE_NO_WARNINGS: '1',
        ...extraEnv,
      },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let out = '';
    child.stdout.on('data', (d) => {
      out += String(d);
    });
    child.on('close', (code) =>
      code === 0 ? resolve(JSON.parse(out)) : reject(new Error(`worker exited ${code}`)),
    );
  });

const rows: string[][] = [];
const costs: Array<{ label: string; notifier: MonthlyCost; naive: MonthlyCost }> = [];
/** What the poll worker adds to a cycle run here directly: its run record (one read, one write), its logs. */
const countsOf = (r: WorkerResult): CycleCounts => ({
  wallMs: r.wallMs,
  readUnits: r.dynamodb.readCapacity + WORKER_RUN_RECORD.readUnits,
  writeUnits: r.dynamodb.writeCapacity + WORKER_RUN_RECORD.writeUnits,
  putEventsEntries: r.putEvents.entries,
  logBytes: WORKER_LOG_BYTES,
});
const notes: string[] = [];
const row = (
  label: string,
  n: number,
  watched: number,
  r: WorkerResult,
  bounds: { uphance?: number; items?: number; writes?: number },
) => {
  const overhead = r.wallMs - r.uphance.waitingMs;
  const leaseWrites = 2;
  const stateWrites = r.dynamodb.writes - leaseWrites;
  const check = (ok: boolean) => (ok ? '' : ' ✗');
  rows.push([
    label,
    n.toLocaleString('en'),
    watched.toLocaleString('en'),
    String(r.report.events),
    `${r.uphance.requests}${bounds.uphance === undefined ? '' : ` (≤${bounds.uphance})${check(r.uphance.requests <= bounds.uphance)}`}`,
    `${r.dynamodb.itemsRead ?? '?'}${bounds.items === undefined ? '' : ` (≤${bounds.items})${check((r.dynamodb.itemsRead ?? 0) <= bounds.items)}`}`,
    String(r.dynamodb.batchGets),
    `${stateWrites}+${leaseWrites}${bounds.writes === undefined ? '' : ` (${bounds.writes} touched)`}`,
    `${r.dynamodb.readCapacity.toFixed(1)} / ${r.dynamodb.writeCapacity.toFixed(1)}`,
    `${r.putEvents.calls} (${Math.ceil(r.report.events / 10)})${check(r.putEvents.calls === Math.ceil(r.report.events / 10))}`,
    `${(r.wallMs / 1000).toFixed(2)} s`,
    `${(overhead / 1000).toFixed(2)} s (${((overhead / Math.max(1, r.uphance.waitingMs)) * 100).toFixed(1)}%)${check(overhead <= 0.1 * r.uphance.waitingMs)}`,
    `${r.peakRssMb.toFixed(0)} MB${check(r.peakRssMb <= 256)}`,
  ]);
};

for (const n of sizes) {
  const table = `bench-${n}-${Date.now()}`;
  await createTable(localDynamoDb(dynamo.endpoint), table);
  sim.state.clear();
  sim.state.load(generateOrders({ count: n, seed: n, watchedShare: 0.1 }));
  const orders = [...sim.state.orders.values()];
  const open = orders.filter((o) => ['draft', 'confirmed'].includes(toFilterWord(o.raw.status)));
  const pendingClosed = orders.filter((o) => !open.includes(o) && o.lineItems.some(hasWorkLeft));
  // Complete orders not all received are watched too, for the due-date signals (their own query).
  const undelivered = orders.filter(
    (o) =>
      toFilterWord(o.raw.status) === 'complete' && toFilterWord(o.raw.delivery_status) !== 'all_received',
  );
  const watched = new Set([...open, ...pendingClosed, ...undelivered]).size;
  process.stderr.write(`${n} orders, ${watched} watched: baseline…\n`);
  const baseline = await worker(table);
  row('baseline', n, watched, baseline, { uphance: Math.ceil(n / 50) });
  // The first incremental cycle after the baseline reads every watched snapshot once and writes the
  // index (the baseline does not index: it would rewrite the index page after page).
  process.stderr.write('  first cycle after the baseline (builds the index)…\n');
  const first = await worker(table);
  row('first (index built)', n, watched, first, {});
  process.stderr.write('  unchanged cycle…\n');
  const quiet = await worker(table);
  // Each query costs at least one request, also when it finds nothing.
  const pages =
    Math.max(1, Math.ceil(open.length / 50)) +
    Math.max(1, Math.ceil(pendingClosed.length / 50)) +
    Math.max(1, Math.ceil(undelivered.length / 50)) +
    1;
  // A quiet cycle reads a handful of items whatever the account's size (issue 15).
  row('no change', n, watched, quiet, { uphance: pages, items: QUIET_ITEMS, writes: 0 });
  if (quiet.dynamodb.writes !== 2 || quiet.putEvents.calls !== 0)
    notes.push(`✗ ${n}: the unchanged cycle wrote or published`);
  // 1% of the watched orders change: stages move, deliveries arrive, some complete and leave the set.
  const random = seededRandom(n + 1);
  const changed = new Set<number>();
  const target = Math.max(1, Math.round(watched / 100)); // orders touched; a touch can be a no-op
  let leaving = 0;
  const candidates = [...new Set([...open, ...pendingClosed, ...undelivered])];
  while (changed.size < target) {
    const order = candidates[Math.floor(random() * candidates.length)]!;
    if (changed.has(order.raw.id)) continue;
    changed.add(order.raw.id);
    const roll = random();
    if (roll < 0.5) sim.state.advanceStage(order.raw.id);
    else if (roll < 0.7) sim.state.setDeliveryStatus(order.raw.id, 'receiving');
    else if (roll < 0.85) sim.state.setDueDate(order.raw.id, '2027-03-31');
    else {
      for (const item of order.lineItems) while (sim.state.advanceStage(order.raw.id, item.raw.id as number));
      sim.state.setStatus(order.raw.id, 'complete');
      leaving++;
    }
  }
  process.stderr.write(`  cycle with ${changed.size} changed (${leaving} leaving the watched set)…\n`);
  const busy = await worker(table);
  // Beyond the quiet cycle's items: at most the snapshot of each order touched.
  row('1% changed', n, watched, busy, {
    uphance: pages + leaving,
    items: QUIET_ITEMS + changed.size,
    writes: changed.size,
  });
  // The daily full reconciliation sweep: an unchanged cycle that also reads every page.
  process.stderr.write('  cycle with the daily sweep…\n');
  const sweep = await worker(table, { BENCH_SWEEP: '1' });
  row('daily sweep', n, watched, sweep, { uphance: pages + Math.ceil(n / 50) + 2 });
  costs.push({
    label: n.toLocaleString('en'),
    // Every cycle like the measured 1%-changed one, and once a day a sweeping one.
    notifier: monthlyCost(notifierMonth(countsOf(busy), countsOf(sweep))),
    // A naive poller reads every page and writes every order each cycle: the baseline's work, every time,
    // and emits the same events as the notifier.
    naive: monthlyCost(naiveMonth({ ...countsOf(baseline), putEventsEntries: busy.putEvents.entries })),
  });
}

// The poll worker's bundle, built as the stack builds it, and its module initialisation time.
mkdirSync('.bench', { recursive: true });
await build({
  entryPoints: ['functions/handlers/poll-worker.ts'],
  outfile: '.bench/poll.mjs',
  bundle: true,
  minify: true,
  sourcemap: true,
  platform: 'node',
  format: 'esm',
  target: 'node22',
  mainFields: ['module', 'main'],
  external: ['@aws-sdk/*'],
  banner: {
    js: "import { createRequire } from 'node:module'; const require = createRequire(import.meta.url);",
  },
  logLevel: 'silent',
});
const bundleKb = statSync('.bench/poll.mjs').size / 1024;
writeFileSync(
  '.bench/init.mjs',
  "const t = performance.now(); await import('./poll.mjs'); process.stdout.write(String(performance.now() - t));",
);
const inits: number[] = [];
for (let i = 0; i < 5; i++) {
  const ms = execFileSync(process.execPath, ['.bench/init.mjs'], {
    env: {
      ...process.env,
      TABLE_NAME: 't',
      EVENT_BUS_NAME: 'b',
      UPHANCE_SECRET_ARN: 's',
      AWS_REGION: 'us-east-1',
      NODE_NO_WARNINGS: '1',
    },
  });
  inits.push(Number(String(ms)));
}
inits.sort((a, b) => a - b);

await Promise.all([sim.close(), bus.close(), dynamo.stop()]);

const header = [
  'cycle',
  'orders',
  'watched',
  'events',
  'Uphance req (bound)',
  'items read (bound)',
  'BatchGetItem',
  'DDB writes state+lease (orders touched)',
  'RCU / WCU',
  'PutEvents (ceil(ev/10))',
  'wall',
  'local overhead (≤10%)',
  'peak RSS (≤256)',
];
const table = [header, header.map(() => '---'), ...rows].map((r) => `| ${r.join(' | ')} |`).join('\n');
const machine = `${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}, ${(totalmem() / 2 ** 30).toFixed(0)} GiB, node ${process.version}; Uphance latency ${latencyMs} ms a request`;
process.stdout.write(
  `\n${table}\n\npoll bundle: ${bundleKb.toFixed(1)} KiB (≤1024${bundleKb <= 1024 ? '' : ' ✗'}); module init: median ${inits[2]?.toFixed(0)} ms (min ${inits[0]?.toFixed(0)}, max ${inits[4]?.toFixed(0)})\nmachine: ${machine}\n${notes.join('\n')}\n`,
);
process.stdout.write(
  `\nMonthly AWS cost, ${PRICES.region} list prices of ${PRICES.date} (bench/prices.ts); 5-minute schedule (8,640 cycles), 1% of the watched orders changing per cycle, a daily sweep; Lambda arm64 512 MB billed on the measured wall time:\n\n${costTable(costs.map((c) => ({ label: c.label, cost: c.notifier })))}\n\nNaive poller (reads every page and writes every order each cycle, same events):\n\n${costTable(costs.map((c) => ({ label: c.label, cost: c.naive })))}\n`,
);
