import { performance } from 'node:perf_hooks';
import { DEFAULT_SIGNAL_SETTINGS } from '../functions/core/signals.js';
import { runCycle } from '../functions/cycle/cycle.js';
import { silentLogger } from '../functions/cycle/ports.js';
import { sinkFor, storeAt, uphanceFor } from '../functions/runtime/runtime.js';
import { localDynamoDb, localEventBridge } from '../local-aws/clients.js';

/**
 * One poll cycle in a process of its own, so that its peak RSS is the notifier's alone (the simulator and
 * DynamoDB Local run elsewhere). Prints one JSON line of figures.
 */
const env = process.env;
// The notifier's own parts, as the runtime builds them, on one state partition with no lease on the
// credentials (nothing else polls here).
const { source, apiStats } = uphanceFor(
  {
    apiUrl: env.BENCH_API_URL as string,
    credentials: { kind: 'token', token: 'sim-token' },
    organisationId: undefined,
    requestTimeoutMs: 60_000,
  },
  silentLogger,
);
const store = storeAt(
  { kind: 'dynamodb', tableName: env.BENCH_TABLE as string, partition: 'bench' },
  { dynamodb: localDynamoDb(env.BENCH_DYNAMODB as string) },
);
const sink = sinkFor(
  { sink: { kind: 'eventbridge', busName: 'bench' }, source: 'uphance.production-orders' },
  { eventbridge: localEventBridge(env.BENCH_EVENTBRIDGE as string, 3) },
);
const started = performance.now();
const report = await runCycle(
  { source, store, sink, now: Date.now, logger: silentLogger },
  {
    owner: `bench-${process.pid}`,
    leaseTtlMs: 3_600_000,
    budgetMs: 1_800_000,
    // BENCH_SWEEP=1: this cycle also runs the daily full reconciliation sweep (for the monthly cost).
    sweepIntervalMs: env.BENCH_SWEEP === '1' ? 1 : 86_400_000,
    emitBaseline: false,
    signals: DEFAULT_SIGNAL_SETTINGS,
  },
);
const wallMs = performance.now() - started;
process.stdout.write(
  `${JSON.stringify({
    report,
    wallMs,
    uphance: { requests: apiStats.requests, waitingMs: apiStats.waitingMs },
    dynamodb: store.stats,
    putEvents: sink.stats,
    peakRssMb: process.resourceUsage().maxRSS / 1024,
  })}\n`,
);
