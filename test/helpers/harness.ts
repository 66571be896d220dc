import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FileStateStore } from '../../functions/adapters/file/state-store.js';
import { UphanceOrderSource } from '../../functions/adapters/uphance-source.js';
import type { NotifierEvent } from '../../functions/core/events/catalogue.js';
import { validateEvent } from '../../functions/core/events/catalogue.js';
import type { Snapshot } from '../../functions/core/snapshot.js';
import type { CycleStep } from '../../functions/cycle/commit.js';
import type { CycleDependencies, CycleOptions, CycleReport } from '../../functions/cycle/cycle.js';
import { runCycle } from '../../functions/cycle/cycle.js';
import type { EventSink, PublishResult, StateStore } from '../../functions/cycle/ports.js';
import { silentLogger } from '../../functions/cycle/ports.js';
import { UphanceClient } from '../../functions/uphance/client.js';
import type { RunningSimulator } from '../../simulator/server.js';
import { interceptStore } from '../../soak/intercept.js';
import {
  checkAtRisk,
  checkEvents,
  checkLedgerCovered,
  checkMilestones,
  checkSnapshots,
  truthSnapshots,
} from '../../soak/invariants.js';
import { fakeClock } from './fake-clock.js';

/** Collects what was published; can be told to reject (plays EventBridge refusing) or refuse for good. */
export class MemorySink implements EventSink {
  readonly published: NotifierEvent[] = [];
  failNext = 0;
  /** Events the bus refuses for good. */
  refuseIf: (event: NotifierEvent) => boolean = () => false;
  async publish(events: NotifierEvent[]): Promise<PublishResult> {
    if (this.failNext > 0) {
      this.failNext--;
      throw new Error('sink refused the batch');
    }
    const rejected: PublishResult['rejected'] = [];
    for (const event of events) {
      if (this.refuseIf(event)) rejected.push({ event, reason: 'MalformedDetail: refused' });
      else this.published.push(validateEvent(event));
    }
    return { rejected };
  }
}

class Crash extends Error {
  override readonly name = 'Crash';
}

/** A store whose lease is never released after a crash: the process died, the lease must expire. */
const killableStore = (inner: StateStore) => {
  const state = { killed: false };
  const store = interceptStore(inner, {
    around: (call, phase) => {
      if (call === 'acquireLease' && phase === 'before') state.killed = false;
    },
    release: async (lease) => {
      if (!state.killed) await inner.releaseLease(lease);
    },
  });
  return Object.assign(store, { state });
};

export const tempStatePath = (): string =>
  join(mkdtempSync(join(tmpdir(), 'uphance-notifier-')), 'state.json');

export const DEFAULT_OPTIONS: Omit<CycleOptions, 'owner'> = {
  leaseTtlMs: 300_000,
  budgetMs: 240_000,
  sweepIntervalMs: 0,
  emitBaseline: false,
};

/** One notifier wired to a simulator: the real client, cycle and a store; a fake clock; a memory sink. */
export const notifierFor = (
  sim: RunningSimulator,
  options: {
    store?: StateStore;
    sink?: EventSink;
    /** Plays a slow API: each request takes this long on the fake clock. */
    requestMs?: number;
    isAbandoned?: CycleDependencies['isAbandoned'];
  } = {},
) => {
  const clock = fakeClock();
  const requestMs = options.requestMs ?? 0;
  const client = new UphanceClient({
    baseUrl: sim.url,
    credentials: { kind: 'token', token: 'sim-token' },
    clock,
    random: () => 0.5,
    timeoutMs: 2_000,
    fetch: async (input, init) => {
      clock.advance(requestMs);
      return fetch(input, init);
    },
  });
  const memory = new MemorySink();
  const store = killableStore(options.store ?? new FileStateStore(tempStatePath()));
  const sink = options.sink ?? memory;
  const run = (
    overrides: Partial<CycleOptions> & {
      crashAt?: CycleStep;
      owner?: string;
      onStep?: (step: CycleStep) => Promise<void> | void;
    } = {},
  ): Promise<CycleReport> => {
    const { crashAt, owner, onStep, ...rest } = overrides;
    clock.advance(60_000);
    return runCycle(
      {
        source: new UphanceOrderSource(client),
        store,
        sink,
        now: clock.now,
        logger: silentLogger,
        ...(options.isAbandoned ? { isAbandoned: options.isAbandoned } : {}),
        step: async (step) => {
          await onStep?.(step);
          if (step === crashAt) {
            store.state.killed = true;
            throw new Crash(`killed at ${step}`);
          }
        },
      },
      { ...DEFAULT_OPTIONS, owner: owner ?? 'test-runner', ...rest },
    );
  };
  /** Runs a cycle that dies at `step`, then lets its lease expire. */
  const runAndKill = async (step: CycleStep, overrides: Partial<CycleOptions> = {}) => {
    await run({ ...overrides, crashAt: step }).then(
      () => {
        throw new Error(`the cycle never reached ${step}`);
      },
      (error) => {
        if (!(error instanceof Crash)) throw error;
      },
    );
    clock.advance(DEFAULT_OPTIONS.leaseTtlMs);
  };
  const snapshots = async (): Promise<Map<number, Snapshot>> => {
    const ids: number[] = [];
    for await (const batch of store.listSnapshotIds()) ids.push(...batch);
    const stored = await store.getSnapshots(ids);
    return new Map([...stored].map(([id, s]) => [id, s.snapshot]));
  };
  /** The contract's guarantees over everything published since the ledger index `from`. */
  const verify = async (from: number, published: NotifierEvent[] = memory.published) => {
    const events = checkEvents(published);
    const stored = await snapshots();
    return {
      ...events,
      violations: [
        ...events.violations,
        ...checkLedgerCovered(sim.state.ledger, from, published),
        ...checkSnapshots(truthSnapshots(sim.state), stored),
        ...checkMilestones(stored, published),
        ...checkAtRisk(published),
      ],
    };
  };
  return { clock, client, store, memory, run, runAndKill, snapshots, verify };
};
