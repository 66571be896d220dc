import { DynamoStateStore } from '../functions/adapters/dynamodb-store.js';
import { EventBridgeSink } from '../functions/adapters/eventbridge-sink.js';
import { UphanceOrderSource } from '../functions/adapters/uphance-source.js';
import type { NotifierEvent } from '../functions/core/events/catalogue.js';
import type { Snapshot } from '../functions/core/snapshot.js';
import type { CycleOptions } from '../functions/cycle/cycle.js';
import { runCycle } from '../functions/cycle/cycle.js';
import { silentLogger } from '../functions/cycle/ports.js';
import { UphanceClient } from '../functions/uphance/client.js';
import { localDynamoDb, localEventBridge } from '../local-aws/clients.js';
import type { DynamoDbLocal } from '../local-aws/dynamodb-local.js';
import { createTable, startDynamoDbLocal } from '../local-aws/dynamodb-local.js';
import { startThrottleProxy } from '../local-aws/dynamodb-throttle-proxy.js';
import { startLocalEventBridge } from '../local-aws/eventbridge-local.js';
import { vendorExampleOrders } from '../simulator/fixtures.js';
import { generateOrders } from '../simulator/generator.js';
import { seededRandom } from '../simulator/random.js';
import { startSimulator } from '../simulator/server.js';
import { RandomActivity } from './activity.js';
import type { Violation } from './invariants.js';
import { checkEvents, checkLedgerCovered, checkSnapshots, truthSnapshots } from './invariants.js';
import { Killed, KillSwitch } from './kill-switch.js';

export interface SoakOptions {
  cycles: number;
  seed: number;
  /** Stops early (and says so) after this long. */
  maxSeconds: number;
  orders: number;
  /** An already running DynamoDB Local (tests); otherwise one is started. */
  dynamodbEndpoint?: string;
  progress?: (line: string) => void;
}

export interface SoakSummary {
  seed: number;
  cycles: number;
  completed: number;
  failed: Record<string, number>;
  kills: number;
  faults: Record<string, number>;
  changes: number;
  changesByKind: Record<string, number>;
  events: number;
  distinct: number;
  duplicates: number;
  lost: number;
  violations: Violation[];
  seconds: number;
  stoppedEarly: boolean;
}

const CYCLE_MS = 5 * 60_000;

/**
 * Drives the real cycle against the simulator, DynamoDB Local (behind a throttling proxy) and the local
 * PutEvents endpoint, with random changes and random faults, and checks the contract's guarantees.
 */
export const runSoak = async (options: SoakOptions): Promise<SoakSummary> => {
  const started = Date.now();
  const random = seededRandom(options.seed);
  let now = Date.UTC(2026, 10, 1);
  const clock = {
    now: () => now,
    sleep: async (ms: number) => {
      now += ms;
    },
  };
  const dynamo: DynamoDbLocal | undefined = options.dynamodbEndpoint ? undefined : await startDynamoDbLocal();
  const endpoint = options.dynamodbEndpoint ?? (dynamo as DynamoDbLocal).endpoint;
  const [bus, sim, proxy] = await Promise.all([
    startLocalEventBridge(),
    startSimulator({
      orders: [
        ...vendorExampleOrders(),
        ...generateOrders({ count: options.orders, seed: options.seed, watchedShare: 0.3 }),
      ],
      now: () => now,
    }),
    startThrottleProxy(endpoint, seededRandom(options.seed + 1)),
  ]);
  try {
    const table = `soak-${options.seed}-${Date.now()}`;
    await createTable(localDynamoDb(endpoint), table);
    const client = new UphanceClient({
      baseUrl: sim.url,
      credentials: { kind: 'token', token: 'sim-token' },
      clock,
      random,
      timeoutMs: 250,
      retry: { maxAttempts: 4 },
    });
    const kill = new KillSwitch(seededRandom(options.seed + 2), 0.01);
    const store = kill.store(
      new DynamoStateStore({
        client: localDynamoDb(proxy.endpoint, 3),
        tableName: table,
        organisation: 'soak',
        sleep: clock.sleep,
      }),
    );
    const sink = kill.sink(
      new EventBridgeSink({
        client: localEventBridge(bus.url),
        eventBusName: 'soak',
        source: 'uphance.production-orders',
        sleep: clock.sleep,
        maxAttempts: 4,
      }),
    );
    const cycleOptions: CycleOptions = {
      owner: 'soak',
      // Shorter than the interval: a killed runner's lease has expired by the next cycle.
      leaseTtlMs: CYCLE_MS - 60_000,
      budgetMs: 120_000,
      sweepIntervalMs: 50 * CYCLE_MS,
      emitBaseline: false,
    };
    let owner = 0;
    const cycle = () =>
      runCycle(
        { source: new UphanceOrderSource(client), store, sink, now: clock.now, logger: silentLogger },
        { ...cycleOptions, owner: `soak-${++owner}` },
      );
    const received = (): NotifierEvent[] =>
      bus.events.map((e) => ({ detailType: e.detailType, detail: e.detail }) as unknown as NotifierEvent);

    await cycle(); // the silent baseline, without faults
    const fromIndex = sim.state.ledger.length;
    const activity = new RandomActivity(sim.state, random);
    const failed: Record<string, number> = {};
    const violations: Violation[] = [];
    let completed = 0;
    let cycles = 0;
    let stoppedEarly = false;
    for (let i = 1; i <= options.cycles; i++) {
      if ((Date.now() - started) / 1000 > options.maxSeconds) {
        stoppedEarly = true;
        break;
      }
      now += CYCLE_MS;
      activity.step(5);
      sim.faults.randomly({
        seed: options.seed * 7919 + i,
        rates: { rate_limit: 0.04, server_error: 0.04, slow: 0.004, drop: 0.01, malformed: 0.01 },
        retryAfter: String(1 + Math.floor(random() * 5)),
        slowMs: 400,
      });
      bus.setRandomFaults({ entryFailureRate: 0.03, throttleRate: 0.03, random });
      proxy.setRate(0.02);
      kill.reset(true);
      try {
        const report = await cycle();
        if (report.outcome !== 'lease-held') completed++;
      } catch (error) {
        const name = error instanceof Killed ? 'Killed' : (error as Error).name;
        failed[name] = (failed[name] ?? 0) + 1;
      }
      cycles++;
      // After every cycle: duplicates only as identical re-emissions, no sequence given to two events.
      const check = checkEvents(received());
      const fresh = check.violations.filter((v) => v.rule !== 'sequence-gap');
      if (fresh.length > 0) {
        violations.push(...fresh.map((v) => ({ ...v, message: `after cycle ${i}: ${v.message}` })));
        break;
      }
      if (i % 100 === 0)
        options.progress?.(`${i} cycles, ${bus.events.length} events, ${check.duplicates} duplicates`);
    }

    // Faults off; every order readable; run until caught up, with a final reconciliation sweep.
    sim.faults.randomly(undefined);
    bus.setRandomFaults(undefined);
    proxy.setRate(0);
    kill.reset(false);
    activity.heal();
    for (let i = 0; i < 2; i++) {
      now += CYCLE_MS;
      await cycle();
    }
    now += cycleOptions.sweepIntervalMs;
    await cycle();

    const published = received();
    const events = checkEvents(published);
    const ids: number[] = [];
    const raw = new DynamoStateStore({
      client: localDynamoDb(endpoint),
      tableName: table,
      organisation: 'soak',
    });
    for await (const batch of raw.listSnapshotIds()) ids.push(...batch);
    const stored = new Map<number, Snapshot>(
      [...(await raw.getSnapshots(ids))].map(([id, s]) => [id, s.snapshot]),
    );
    const lost = checkLedgerCovered(sim.state.ledger, fromIndex, published);
    violations.push(...events.violations, ...lost, ...checkSnapshots(truthSnapshots(sim.state), stored));
    return {
      seed: options.seed,
      cycles,
      completed,
      failed,
      kills: kill.kills,
      faults: {
        uphance429: sim.faults.injected.rate_limit,
        uphance5xx: sim.faults.injected.server_error,
        uphanceSlow: sim.faults.injected.slow,
        uphanceDropped: sim.faults.injected.drop,
        uphanceMalformed: sim.faults.injected.malformed,
        putEventsFailedEntries: bus.injected.failedEntries,
        putEventsThrottled: bus.injected.throttled,
        dynamodbThrottled: proxy.throttled,
      },
      changes: sim.state.ledger.length - fromIndex,
      changesByKind: activity.counts,
      events: events.events,
      distinct: events.distinct,
      duplicates: events.duplicates,
      lost: lost.length,
      violations,
      seconds: (Date.now() - started) / 1000,
      stoppedEarly,
    };
  } finally {
    await Promise.all([bus.close(), sim.close(), proxy.close()]);
    await dynamo?.stop();
  }
};

export const formatSummary = (s: SoakSummary): string =>
  [
    `soak (seed ${s.seed}): ${s.cycles} cycles in ${s.seconds.toFixed(1)} s${s.stoppedEarly ? ' (stopped early: time bound)' : ''}`,
    `  cycles completed ${s.completed}, failed ${JSON.stringify(s.failed)}, killed ${s.kills}`,
    `  faults ${Object.entries(s.faults)
      .map(([k, v]) => `${k} ${v}`)
      .join(', ')}`,
    `  changes ${s.changes} (${Object.entries(s.changesByKind)
      .map(([k, v]) => `${k} ${v}`)
      .join(', ')})`,
    `  events ${s.events} published, ${s.distinct} distinct, duplicates ${s.duplicates} (all identical re-emissions)`,
    `  lost ${s.lost}; violations ${s.violations.length}`,
    ...s.violations.slice(0, 20).map((v) => `  ✗ ${v.rule} order ${v.orderId}: ${v.message}`),
  ].join('\n');
