import { performance } from 'node:perf_hooks';
import { DynamoStateStore } from '../functions/adapters/dynamodb/state-store.js';
import { EventBridgeSink } from '../functions/adapters/eventbridge-sink.js';
import { UphanceOrderSource } from '../functions/adapters/uphance-source.js';
import { DEFAULT_SIGNAL_SETTINGS } from '../functions/core/signals.js';
import { runCycle } from '../functions/cycle/cycle.js';
import { silentLogger } from '../functions/cycle/ports.js';
import { UphanceClient } from '../functions/uphance/client.js';
import { localDynamoDb, localEventBridge } from '../local-aws/clients.js';

/**
 * One poll cycle in a process of its own, so that its peak RSS is the notifier's alone (the simulator and
 * DynamoDB Local run elsewhere). Prints one JSON line of figures.
 */
const env = process.env;
let waitingMs = 0;
let requests = 0;
const client = new UphanceClient({
  baseUrl: env.BENCH_API_URL as string,
  credentials: { kind: 'token', token: 'sim-token' },
  timeoutMs: 60_000,
  onEvent: (event) => {
    if (event.type === 'response' || event.type === 'failure') {
      requests++;
      waitingMs += event.durationMs;
    }
  },
});
const store = new DynamoStateStore({
  client: localDynamoDb(env.BENCH_DYNAMODB as string),
  tableName: env.BENCH_TABLE as string,
  organisation: 'bench',
});
const sink = new EventBridgeSink({
  client: localEventBridge(env.BENCH_EVENTBRIDGE as string, 3),
  eventBusName: 'bench',
  source: 'uphance.production-orders',
});
const started = performance.now();
const report = await runCycle(
  { source: new UphanceOrderSource(client), store, sink, now: Date.now, logger: silentLogger },
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
    uphance: { requests, waitingMs },
    dynamodb: store.stats,
    putEvents: sink.stats,
    peakRssMb: process.resourceUsage().maxRSS / 1024,
  })}\n`,
);
