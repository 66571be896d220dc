import type { SignalSettings } from '../core/signals.js';
import type { Snapshot } from '../core/snapshot.js';
import type { CycleStep } from './commit.js';
import type { OrganisationHint } from './organisation-guard.js';
import type { EventSink, LeaseStore, Logger, OrderSource, StateStore } from './ports.js';
import type { Lease } from './records.js';

/**
 * What a cycle is given and what it reports: shared by the cycle (cycle.ts), its passes and the targeted
 * check, apart from the code that runs them, so that none of them imports another for its types.
 */

export interface CycleOptions {
  /** Identifies this runner in the lease (request id, host:pid). */
  owner: string;
  /** This runner's host and process, so that a rerun on the same host can take over from a dead one. */
  host?: string;
  pid?: number;
  /** The process's start time, where the system tells it (a pid reused later is then not mistaken for it). */
  start?: string;
  /** How long a run waits for the state's lease when another runner holds it (default 0: not at all). */
  leaseWaitMs?: number;
  /**
   * How long a run waits for its turn on the credentials when a run for another organisation uses them
   * (default: the budget). A turn that does not come ends the run as `lease-held`, having changed nothing.
   */
  credentialsWaitMs?: number;
  /** How long the lease holds; beyond the hard deadline, so that a live cycle never loses it. */
  leaseTtlMs: number;
  /** Time after which the cycle stops fetching and commits what it has; the next cycle resumes. */
  budgetMs: number;
  /** Time after which no I/O goes on at all (commits included); defaults to budget + 60 s. */
  deadlineMs?: number;
  /** Period of the full reconciliation sweep; 0 turns it off. */
  sweepIntervalMs: number;
  /** Emit OrderCreated for every existing order on the first run instead of a silent baseline. */
  emitBaseline: boolean;
  /** Production signals' settings (docs/contract.md 1b); without them no signal is evaluated. */
  signals?: SignalSettings;
  /** Largest journal part in bytes of JSON (default JOURNAL_PART_BYTES); lowered by tests and the soak. */
  journalPartBytes?: number;
}

export interface CycleDependencies {
  source: OrderSource;
  store: StateStore;
  sink: EventSink;
  now: () => number;
  /**
   * The time production signals are judged at (due soon, overdue, stalled); defaults to `now`. The demo
   * simulator's calendar runs faster than the wall clock, while leases and deadlines keep real time.
   */
  signalNow?: () => number;
  logger: Logger;
  /** Whether the lease's holder is a process of this host that no longer runs (its lease is taken over). */
  isAbandoned?: (holder: Lease) => boolean;
  /**
   * Leases on the Uphance credentials the source uses (host, table), taken before the state's lease and
   * held to the run's end: runs for different organisations on the same credentials take turns.
   */
  credentials?: LeaseStore[];
  /** What the run is for (the state's setting and organisation), recorded in the credentials' lease. */
  scope?: string;
  /** The organisation the state is polled for, and whether an unrecorded state must be confirmed first. */
  organisation?: () => OrganisationHint;
  /** Waits (for a lease held by another runner); defaults to a timer. */
  sleep?: (ms: number, signal?: AbortSignal) => Promise<unknown>;
  step?: (step: CycleStep) => Promise<void> | void;
  /**
   * The earliest time (epoch ms) at which a time-based signal could fire for an order with this snapshot,
   * or null: kept in the index, so that the order is diffed (its snapshot read) once that time has come.
   * Defaults to none (no time-based signal).
   */
  nextSignalAt?: (snapshot: Snapshot) => number | null;
}

export interface CycleReport {
  /** `deadline`: the hard deadline cut a commit short; its journal is finished by the next cycle. */
  outcome: 'completed' | 'lease-held' | 'budget-exhausted' | 'deadline';
  generation: number | null;
  /** With `lease-held`: who holds it and until when. */
  holder: Lease | null;
  /** With `lease-held`: whether the state's lease or the credentials' was held. */
  heldBy: 'state' | 'credentials' | null;
  /** Time spent waiting for a lease another runner held. */
  waitedMs: number;
  /** The dead runner whose lease this cycle took over. */
  tookOverFrom: Lease | null;
  baseline: boolean;
  sweep: 'none' | 'partial' | 'complete';
  ordersScanned: number;
  /** Fetched orders the index showed unchanged: neither read nor diffed. */
  unchanged: number;
  snapshotsWritten: number;
  events: number;
  eventsByType: Record<string, number>;
  republished: number;
  setAside: number;
  malformed: number;
  oversized: number;
  lookups: number;
  removed: number;
  durationMs: number;
}
