import type { NotifierEvent } from '../functions/core/events/catalogue.js';
import { DEFAULT_SIGNAL_SETTINGS } from '../functions/core/signals.js';
import type { Snapshot } from '../functions/core/snapshot.js';
import type { CycleOptions, CycleReport } from '../functions/cycle/cycle.js';
import { runCycle } from '../functions/cycle/cycle.js';
import { LeaseLostError } from '../functions/cycle/errors.js';
import type { EventSink, StateStore } from '../functions/cycle/ports.js';
import { silentLogger } from '../functions/cycle/ports.js';
import { sinkFor, storeAt, uphanceFor } from '../functions/runtime/runtime.js';
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
import type { StoreCall } from './intercept.js';
import { interceptStore } from './intercept.js';
import type { Violation } from './invariants.js';
import {
  checkAtRisk,
  checkBounded,
  checkEvents,
  checkLedgerCovered,
  checkMilestones,
  checkSnapshots,
  EventCheck,
  FenceWatch,
  truthSnapshots,
} from './invariants.js';
import { Killed, KillSwitch } from './kill-switch.js';

export interface SoakOptions {
  cycles: number;
  seed: number;
  /** Stops early (and says so) after this long; unbounded when omitted. */
  maxSeconds?: number;
  orders: number;
  /** An already running DynamoDB Local (tests); otherwise one is started. */
  dynamodbEndpoint?: string;
  /** The kill rate between the part writes of a multi-part commit (default 0.04; 0.01 elsewhere). */
  partKillRate?: number;
  /** Largest journal part (CycleOptions.journalPartBytes): low, so that large commits span several parts. */
  journalPartBytes?: number;
  progress?: (line: string) => void;
}

export interface SoakSummary {
  seed: number;
  cycles: number;
  completed: number;
  failed: Record<string, number>;
  /** How the cycles that ran to their end ended (completed, budget-exhausted, deadline, lease-held). */
  outcomes: Record<string, number>;
  kills: number;
  faults: Record<string, number>;
  changes: number;
  changesByKind: Record<string, number>;
  events: number;
  distinct: number;
  duplicates: number;
  /** Events the bus refused for good, set aside by the cycle, then re-sent at the end. */
  setAside: number;
  resent: number;
  lost: number;
  violations: Violation[];
  seconds: number;
  stoppedEarly: boolean;
}

const CYCLE_MS = 5 * 60_000;

/** Per cycle, the chance of each scenario the soak plays on top of the random faults. */
const SCENARIO_RATES = { frozenRunner: 0.03, slowApi: 0.05, refusedForGood: 0.04 };
/** A slow cycle: a short budget, and each Uphance request takes this long on the soak's clock. */
const SLOW_BUDGET_MS = 30_000;
const SLOW_REQUEST_MS = { min: 4_000, max: 40_000 };
/** The store calls a frozen runner may stop in: each a fenced write, refused once the lease moved on. */
const FREEZE_AT: StoreCall[] = ['writeJournalPart', 'sealJournal', 'applyWrites', 'clearJournal'];

/** Re-sends the set-aside events and removes those the bus accepted, as a `resend` command would. */
const resendSetAside = async (
  store: StateStore,
  sink: EventSink,
  now: () => number,
): Promise<{ resent: number; left: number }> => {
  const outcome = await store.acquireLease({ owner: 'soak-resend', nowMs: now(), ttlMs: 60_000 });
  if (outcome.kind !== 'acquired') throw new Error('resend: the lease is held');
  try {
    const aside = await store.listSetAside();
    const { rejected } = await sink.publish(aside.map((a) => a.event));
    const refused = new Set(rejected.map((r) => r.event.detail.eventId));
    const accepted = aside.map((a) => a.event.detail.eventId).filter((id) => !refused.has(id));
    if (accepted.length > 0) await store.removeSetAside({ lease: outcome.lease }, accepted);
    return { resent: accepted.length, left: refused.size };
  } finally {
    await store.releaseLease(outcome.lease);
  }
};

/** An event as the bus hands it on (detail-type and detail), for comparing with what the bus received. */
const asReceived = (event: NotifierEvent): NotifierEvent =>
  JSON.parse(JSON.stringify({ detailType: event.detailType, detail: event.detail })) as NotifierEvent;

/**
 * Drives the real cycle against the simulator, DynamoDB Local (behind a throttling proxy) and the local
 * PutEvents endpoint, with random changes and random faults, and checks the contract's guarantees. On top
 * of the random faults it plays, each a seeded number of times and counted in the summary: large orders
 * whose commits span several journal parts (with kills between the part writes), a runner frozen inside a
 * store call past its lease while another runner takes over, a slow API with a short budget (the scan is
 * cut and resumed), orders with megabyte values, and events the bus refuses for good (set aside, re-sent).
 */
export const runSoak = async (options: SoakOptions): Promise<SoakSummary> => {
  const started = Date.now();
  const random = seededRandom(options.seed);
  const scenarioRandom = seededRandom(options.seed + 3);
  let now = Date.UTC(2026, 10, 1);
  const clock = {
    now: () => now,
    sleep: async (ms: number) => {
      now += ms;
    },
  };
  // A slow API on the soak's clock: each request takes this long (none when undefined).
  let slowRequest: (() => number) | undefined;
  let slowRequests = 0;
  const slowFetch: typeof fetch = async (input, init) => {
    const response = await fetch(input, init);
    if (slowRequest) {
      now += slowRequest();
      slowRequests++;
    }
    return response;
  };
  // A loaded machine (several soaks at once) can take well over the default 30 s to start the JVM.
  const dynamo: DynamoDbLocal | undefined = options.dynamodbEndpoint
    ? undefined
    : await startDynamoDbLocal({ timeoutMs: 180_000 });
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
    // The notifier's parts as the runtime builds them, on the soak's clock, faults and retries.
    const { source } = uphanceFor(
      {
        apiUrl: sim.url,
        credentials: { kind: 'token', token: 'sim-token' },
        organisationId: undefined,
        // Real time: long enough for a page with megabyte orders on a loaded machine; 'slow' faults exceed it.
        requestTimeoutMs: 2_000,
      },
      silentLogger,
      { clock, random, retry: { maxAttempts: 4 }, fetch: slowFetch },
    );
    const partition = { kind: 'dynamodb', tableName: table, partition: 'soak' } as const;
    // 1% at each point where a process can die; 4% between the part writes of a multi-part commit.
    const kill = new KillSwitch(seededRandom(options.seed + 2), 0.01, options.partKillRate ?? 0.04);
    const inner = storeAt(partition, { dynamodb: localDynamoDb(proxy.endpoint, 3) }, { sleep: clock.sleep });
    // Multi-part commits: counted where a part after the first is written.
    const multiPart = new Set<string>();
    const counted = interceptStore(inner, {
      around: (call, phase, args) => {
        if (call !== 'writeJournalPart' || phase !== 'after') return;
        const part = args[1] as { generation: number; commit: number; part: number };
        if (part.part >= 1) multiPart.add(`${part.generation}.${part.commit}`);
      },
    });
    const store = kill.store(counted);
    const bridge = sinkFor(
      { sink: { kind: 'eventbridge', busName: 'soak' }, source: 'uphance.production-orders' },
      { eventbridge: localEventBridge(bus.url) },
      { sleep: clock.sleep, maxAttempts: 4 },
    );
    const sink = kill.sink(bridge);
    const cycleOptions: CycleOptions = {
      owner: 'soak',
      // Shorter than the interval: a killed runner's lease has expired by the next cycle.
      leaseTtlMs: CYCLE_MS - 60_000,
      budgetMs: 120_000,
      sweepIntervalMs: 50 * CYCLE_MS,
      emitBaseline: false,
      // As deployed: the production signals on, so their events and memory go through every crash too.
      signals: DEFAULT_SIGNAL_SETTINGS,
      journalPartBytes: options.journalPartBytes ?? 20_000,
    };
    let owner = 0;
    const cycle = (over: Partial<CycleOptions> = {}, deps: { store?: StateStore; sink?: EventSink } = {}) =>
      runCycle(
        {
          source,
          store: deps.store ?? store,
          sink: deps.sink ?? sink,
          now: clock.now,
          logger: silentLogger,
        },
        { ...cycleOptions, ...over, owner: `soak-${++owner}` },
      );
    const received = (): NotifierEvent[] =>
      bus.events.map((e) => ({ detailType: e.detailType, detail: e.detail }) as unknown as NotifierEvent);
    const raw = storeAt(partition, { dynamodb: localDynamoDb(endpoint) });
    const readSnapshots = async (): Promise<Map<number, Snapshot>> => {
      const ids: number[] = [];
      for await (const batch of raw.listSnapshotIds()) ids.push(...batch);
      return new Map([...(await raw.getSnapshots(ids))].map(([id, s]) => [id, s.snapshot]));
    };

    const activity = new RandomActivity(sim.state, random, {
      bulkRate: 0.05,
      largeRate: 0.01,
      poisonRate: 0.002,
    });
    // From the start: two large orders and two poison orders (a product name, a company name).
    activity.createLarge();
    activity.createLarge();
    activity.createPoison('product');
    activity.createPoison('company');
    // The silent baseline, without faults (a page may still time out on a loaded machine: run it again).
    for (let attempt = 1; ; attempt++) {
      const baseline = await cycle().catch((error: unknown) => {
        if (attempt >= 5) throw error;
        return undefined;
      });
      if (baseline?.outcome === 'completed') break;
    }
    const fromIndex = sim.state.ledger.length;
    const failed: Record<string, number> = {};
    const outcomes: Record<string, number> = {};
    const scenarios = {
      frozenRunners: 0,
      frozenRunnersFenced: 0,
      frozenRunnersEndedByDeadline: 0,
      slowCycles: 0,
      slowCyclesCut: 0,
      refusalsQueued: 0,
      cyclesResumingScan: 0,
    };
    const violations: Violation[] = [];
    const fence = new FenceWatch();
    const eventCheck = new EventCheck();
    let completed = 0;
    let cycles = 0;
    let stoppedEarly = false;
    const settle = async (run: Promise<CycleReport>): Promise<CycleReport | undefined> => {
      try {
        const report = await run;
        outcomes[report.outcome] = (outcomes[report.outcome] ?? 0) + 1;
        if (report.outcome !== 'lease-held') completed++;
        return report;
      } catch (error) {
        const name = error instanceof Killed ? 'Killed' : (error as Error).name;
        failed[name] = (failed[name] ?? 0) + 1;
        return undefined;
      }
    };

    /**
     * Two runners at once: A stops inside a fenced store write (a process frozen by SIGSTOP, played in
     * process), its lease runs out on the soak's clock, B runs a whole cycle (taking the lease, generation
     * + 1), then A resumes. A must fail with LeaseLostError, its write not applied.
     */
    const frozenRunner = async (i: number): Promise<void> => {
      const at = FREEZE_AT[Math.floor(scenarioRandom() * FREEZE_AT.length)] as StoreCall;
      let frozen = false;
      let onFrozen = () => {};
      const hasFrozen = new Promise<'frozen'>((resolve) => {
        onFrozen = () => resolve('frozen');
      });
      let thaw = () => {};
      const thawed = new Promise<void>((resolve) => {
        thaw = resolve;
      });
      const storeA = interceptStore(inner, {
        around: async (call, phase) => {
          if (frozen || call !== at || phase !== 'before') return;
          frozen = true;
          onFrozen();
          await thawed;
        },
      });
      const runA = cycle({}, { store: storeA, sink: bridge });
      const endA = runA.then(
        (report) => ({ report, error: undefined }),
        (error: unknown) => ({ report: undefined, error }),
      );
      const first = await Promise.race([hasFrozen, endA.then(() => 'ended' as const)]);
      if (first === 'ended') {
        // A never reached that write (nothing to commit): an ordinary cycle.
        await settle(runA);
        return;
      }
      scenarios.frozenRunners++;
      now += cycleOptions.leaseTtlMs + 1_000;
      // B must take the lease over: a B killed before it took it leaves A's lease (expired, but nobody's
      // since) as the current one, and A's writes would rightly be applied. B runs again until it has.
      let tookOver = false;
      const storeB = interceptStore(store, {
        around: (call, phase, _args, result) => {
          const taken = call === 'acquireLease' || call === 'takeOverLease';
          if (taken && phase === 'after' && (result as { kind?: string } | undefined)?.kind === 'acquired')
            tookOver = true;
        },
      });
      for (let attempt = 0; attempt < 10 && !tookOver; attempt++) {
        kill.reset(true);
        await settle(cycle({}, { store: storeB }));
      }
      thaw();
      const a = await endA;
      if (a.error instanceof LeaseLostError) scenarios.frozenRunnersFenced++;
      // The soak's clock jumped past A's lease, and so past its deadline too: A may also stop at its next
      // bounded call (a publish refused by the deadline) before it tries a write. Either way nothing it sent
      // after the takeover was applied (the fence watch and the event checks say so after every cycle).
      else if (a.report?.outcome === 'deadline') scenarios.frozenRunnersEndedByDeadline++;
      else {
        violations.push({
          rule: 'stale-write',
          orderId: 0,
          message: `after cycle ${i}: a runner frozen in ${at} past its lease resumed and ended with ${
            a.error
              ? `${(a.error as Error).name}: ${(a.error as Error).message}`
              : `outcome ${a.report?.outcome}`
          }, not LeaseLostError`,
        });
      }
    };

    for (let i = 1; i <= options.cycles; i++) {
      if (options.maxSeconds !== undefined && (Date.now() - started) / 1000 > options.maxSeconds) {
        stoppedEarly = true;
        break;
      }
      now += CYCLE_MS;
      activity.step(5);
      sim.faults.randomly({
        seed: options.seed * 7919 + i,
        rates: { rate_limit: 0.04, server_error: 0.04, slow: 0.002, drop: 0.01, malformed: 0.01 },
        retryAfter: String(1 + Math.floor(random() * 5)),
        slowMs: 2_100,
      });
      bus.setRandomFaults({ entryFailureRate: 0.03, throttleRate: 0.03, random });
      proxy.setRate(0.02);
      if (scenarioRandom() < SCENARIO_RATES.refusedForGood) {
        // The next PutEvents call's first entry is refused for good: the cycle sets it aside.
        bus.faults.push({ kind: 'fail-entries', indexes: [0], errorCode: 'MalformedDetail' });
        scenarios.refusalsQueued++;
      }
      const frozeBefore = scenarios.frozenRunners;
      const checkpoint = await raw.getCheckpoint();
      if (checkpoint?.scan || checkpoint?.newOrders) scenarios.cyclesResumingScan++;
      const roll = scenarioRandom();
      if (roll < SCENARIO_RATES.frozenRunner) {
        kill.reset(false);
        await frozenRunner(i);
      } else if (roll < SCENARIO_RATES.frozenRunner + SCENARIO_RATES.slowApi) {
        // A slow API near the deadline: a short budget, and requests that take seconds each.
        scenarios.slowCycles++;
        slowRequest = () =>
          SLOW_REQUEST_MS.min + Math.floor(scenarioRandom() * (SLOW_REQUEST_MS.max - SLOW_REQUEST_MS.min));
        // Not killed as well: the cut at the budget or deadline is what this scenario tests.
        kill.reset(false);
        const report = await settle(cycle({ budgetMs: SLOW_BUDGET_MS }));
        slowRequest = undefined;
        if (report && (report.outcome === 'budget-exhausted' || report.outcome === 'deadline'))
          scenarios.slowCyclesCut++;
      } else {
        kill.reset(true);
        await settle(cycle());
      }
      cycles++;
      // After every cycle: duplicates only as identical re-emissions, no sequence given to two events;
      // after each frozen runner, and every 10 cycles, no stale runner's write applied (stored sequences
      // never go back, nor behind delivered events).
      const published = received();
      const fresh = eventCheck.add(published.slice(eventCheck.events));
      if (frozeBefore !== scenarios.frozenRunners || i % 10 === 0)
        fresh.push(...fence.observe(await readSnapshots(), published));
      if (fresh.length > 0) {
        violations.push(...fresh.map((v) => ({ ...v, message: `after cycle ${i}: ${v.message}` })));
        break;
      }
      if (i % 100 === 0)
        options.progress?.(
          `${i} cycles, ${bus.events.length} events, ${eventCheck.duplicates} duplicates, ${Math.round((Date.now() - started) / 1000)} s`,
        );
    }

    // Faults off; every order readable; run until caught up, with a final reconciliation sweep.
    sim.faults.randomly(undefined);
    bus.setRandomFaults(undefined);
    bus.faults.length = 0;
    proxy.setRate(0);
    kill.reset(false);
    activity.heal();
    // (A page can still time out on a loaded machine: such a cycle is simply run again.)
    const settled = async (done: (report: CycleReport) => boolean, step: number) => {
      for (let attempt = 1; attempt <= 10; attempt++) {
        now += step;
        const report = await cycle().catch(() => undefined);
        if (report && done(report)) return;
      }
      throw new Error('the soak could not settle: no clean cycle in 10 attempts');
    };
    await settled((r) => r.outcome === 'completed', CYCLE_MS);
    await settled((r) => r.outcome === 'completed', CYCLE_MS);
    await settled((r) => r.outcome === 'completed' && r.sweep === 'complete', cycleOptions.sweepIntervalMs);

    // Set-aside events are not lost only if the store lists them; with them, nothing may be missing.
    const aside = (await raw.listSetAside()).map((a) => asReceived(a.event));
    const before = received();
    const events = checkEvents([...before, ...aside]);
    const lost = checkLedgerCovered(sim.state.ledger, fromIndex, before, aside);
    const stored = await readSnapshots();
    violations.push(
      ...events.violations,
      ...lost,
      ...checkSnapshots(truthSnapshots(sim.state), stored),
      ...checkMilestones(stored, [...before, ...aside]),
      ...checkAtRisk([...before, ...aside]),
      ...checkBounded([...before, ...aside]),
      ...fence.observe(stored, before),
    );
    // Then they are re-sent (as the `resend` command does): the bus alone must now hold everything.
    now += CYCLE_MS;
    const resend = await resendSetAside(raw, bridge, clock.now);
    const after = received();
    const lostAfterResend = checkLedgerCovered(sim.state.ledger, fromIndex, after);
    violations.push(
      ...checkEvents(after).violations.map((v) => ({ ...v, message: `after the resend: ${v.message}` })),
      ...lostAfterResend.map((v) => ({ ...v, message: `after the resend: ${v.message}` })),
    );
    if ((await raw.listSetAside()).length > 0)
      violations.push({ rule: 'lost', orderId: 0, message: 'set-aside events left after the resend' });
    const poison = new Set(activity.poisonIds);
    return {
      seed: options.seed,
      cycles,
      completed,
      failed,
      outcomes,
      kills: kill.kills,
      faults: {
        uphance429: sim.faults.injected.rate_limit,
        uphance5xx: sim.faults.injected.server_error,
        uphanceSlow: sim.faults.injected.slow,
        uphanceDropped: sim.faults.injected.drop,
        uphanceMalformed: sim.faults.injected.malformed,
        putEventsFailedEntries: bus.injected.failedEntries,
        putEventsThrottled: bus.injected.throttled,
        putEventsRefusedForGood: bridge.stats.rejected - resend.left,
        dynamodbThrottled: proxy.throttled,
        largeOrders: activity.largeIds.length,
        multiPartCommits: multiPart.size,
        killsBetweenJournalParts: kill.killsBetweenParts,
        frozenRunners: scenarios.frozenRunners,
        frozenRunnersFenced: scenarios.frozenRunnersFenced,
        frozenRunnersEndedByDeadline: scenarios.frozenRunnersEndedByDeadline,
        slowApiCycles: scenarios.slowCycles,
        slowApiCyclesCut: scenarios.slowCyclesCut,
        slowApiRequests: slowRequests,
        cyclesResumingScan: scenarios.cyclesResumingScan,
        poisonOrders: poison.size,
        poisonOrderEvents: new Set(
          after.filter((e) => poison.has(e.detail.order.id)).map((e) => e.detail.eventId),
        ).size,
      },
      changes: sim.state.ledger.length - fromIndex,
      changesByKind: { ...activity.counts, bulkStages: activity.bulkStages },
      events: events.events,
      distinct: events.distinct,
      duplicates: events.duplicates,
      setAside: aside.length,
      resent: resend.resent,
      lost: lost.length + lostAfterResend.length,
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
    `  cycles completed ${s.completed} (${Object.entries(s.outcomes)
      .map(([k, v]) => `${k} ${v}`)
      .join(', ')}), failed ${JSON.stringify(s.failed)}, killed ${s.kills}`,
    `  faults ${Object.entries(s.faults)
      .map(([k, v]) => `${k} ${v}`)
      .join(', ')}`,
    `  changes ${s.changes} (${Object.entries(s.changesByKind)
      .map(([k, v]) => `${k} ${v}`)
      .join(', ')})`,
    `  events ${s.events} published, ${s.distinct} distinct, duplicates ${s.duplicates} (all identical re-emissions); set aside ${s.setAside}, re-sent ${s.resent}`,
    `  lost ${s.lost}; violations ${s.violations.length}`,
    ...s.violations.slice(0, 20).map((v) => `  ✗ ${v.rule} order ${v.orderId}: ${v.message}`),
  ].join('\n');
