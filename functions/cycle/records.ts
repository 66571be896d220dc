import type { NotifierEvent } from '../core/events/catalogue.js';
import type { StageSample } from '../core/history.js';
import type { Snapshot } from '../core/snapshot.js';

/**
 * The records the cycle and the stores exchange and keep: leases, snapshots and their index entries, the
 * checkpoint, journal parts and seals, set-aside events and the writes of a commit. Data only; the ports
 * that move them are in ports.ts, the errors in errors.ts.
 */

/**
 * Who asks for the lease. `host`, `pid` and `start` (the process's start time, where the system tells it)
 * let a rerun on the same host take over from a dead process, and never from a live one that reuses a pid.
 */
export interface LeaseClaim {
  owner: string;
  host?: string;
  pid?: number;
  start?: string;
  /**
   * What the run is for (its state): a run that finds the credentials held by a run for the same state
   * treats it as a held state lease (it is the same organisation's turn, not another's).
   */
  scope?: string;
  nowMs: number;
  ttlMs: number;
}

export interface Lease {
  owner: string;
  host?: string;
  pid?: number;
  start?: string;
  scope?: string;
  /** Fencing token: a counter, incremented by every acquisition, kept across releases. */
  generation: number;
  expiresAt: number;
}

export type LeaseOutcome =
  | { kind: 'acquired'; lease: Lease }
  /** Someone else holds an unexpired lease. */
  | { kind: 'held'; holder: Lease };

/** Every state write is fenced: applied only while `lease` is still the current one. */
export interface Fence {
  lease: Lease;
  /** Aborts the write's I/O at the cycle's hard deadline. */
  signal?: AbortSignal;
}

export interface StoredSnapshot {
  snapshot: Snapshot;
  /** Item version, for conditional writes (0 = no item). */
  rev: number;
}

export interface SnapshotWrite {
  orderId: number;
  snapshot: Snapshot;
  /** The version read; the write only succeeds if the item is still at it. */
  expectedRev: number;
  /**
   * The order's entry in the index once this snapshot is written (its rev is `expectedRev + 1`), written
   * with the snapshot, atomically. Absent or null: the order leaves the index (an index never describes a
   * snapshot it was not written with).
   */
  indexed?: { fp: string; dueAt: number | null } | null;
}

/**
 * One order of the index of watched orders: what the cycle needs to know, without reading the snapshot,
 * that diffing this order would find nothing. Invariant (kept by the stores): an entry's snapshot is at
 * `rev`, it is watched, and its content has the fingerprint `fp` (core/fingerprint.ts).
 */
export interface IndexEntry {
  /** orderFingerprint of the order the snapshot was made from. */
  fp: string;
  rev: number;
  /** The earliest time (epoch ms) at which a time-based signal could fire for this order; null: none. */
  dueAt: number | null;
}

/** A change of the index alone (the snapshot stays as it is): an entry set, or removed (null). */
export interface IndexUpdate {
  orderId: number;
  entry: IndexEntry | null;
}

/** The query kinds that make up the watched set (ScanQuery's, ports.ts), scanned in this order. */
export type WatchedQuery = 'open' | 'pending-closed' | 'undelivered-complete';

export interface SweepProgress {
  /** Next page of the `all` query to fetch. */
  page: number;
  startedAt: string;
  /** Ids seen by this sweep so far, sorted and delta-encoded (first id, then differences). */
  seen: number[];
  /** Snapshots no page showed, still to be looked up before the sweep concludes. */
  unconfirmed: number[] | null;
}

/** An incremental round over the watched set that the budget cut: where the next cycle resumes. */
export interface ScanProgress {
  query: WatchedQuery;
  page: number;
  /** Watched orders (at the round's start) not yet seen in this round. */
  unseen: number[];
}

/** A `new` (since_id) scan that the budget cut. */
interface NewOrdersProgress {
  sinceId: number;
  page: number;
  highestSeen: number;
}

export interface Checkpoint {
  v: 1;
  /**
   * The Uphance organisation this state belongs to: the one configured, or the one its orders came from
   * (absent in states written before it was recorded). A state is never diffed against another's orders.
   */
  organisationId?: number;
  /** Set once the first sight of the account has been recorded. */
  baselineAt: string | null;
  /** Highest order id seen: newer orders come in through since_id. */
  highestId: number;
  /** Ids of the orders still watched (open, or with stages pending). */
  watched: number[];
  lastSweepAt: string | null;
  sweep: SweepProgress | null;
  scan?: ScanProgress | null;
  newOrders?: NewOrdersProgress | null;
  /** Watched orders that left the watched set and still await their look-up. */
  pendingLookups?: number[];
}

/**
 * A redo record: one part of what one commit is about to do. A commit is journaled as parts (each well
 * below an item's size limit) and then sealed; only a sealed commit with all its parts is replayed, so a
 * crash between the part writes leaves nothing half-promised.
 */
export interface JournalPart {
  generation: number;
  commit: number;
  part: number;
  events: NotifierEvent[];
  writes: SnapshotWrite[];
  checkpoint: Checkpoint | null;
  /** Index changes without a snapshot write (absent in records written before the index). */
  index?: IndexUpdate[];
  /** Stage history samples to merge (absent in records written before the history). */
  history?: StageSample[];
}

export interface JournalSeal {
  generation: number;
  commit: number;
  parts: number;
}

export interface Journal {
  parts: JournalPart[];
  seals: JournalSeal[];
}

export type CommitRef = Pick<JournalSeal, 'generation' | 'commit'>;

export const commitIdOf = (ref: CommitRef): string => `${ref.generation}.${ref.commit}`;

/** An event the bus refused for good (too large, malformed): kept aside so it never blocks the journal. */
export interface SetAsideEvent {
  event: NotifierEvent;
  reason: string;
  setAsideAt: string;
}

export interface StateWrites {
  writes: SnapshotWrite[];
  checkpoint: Checkpoint | null;
  /** Index changes without a snapshot write; each write's own entry travels with it (`indexed`). */
  index?: IndexUpdate[];
  /**
   * Completed stages to merge into the stage history (core/history.ts). Merging is idempotent: a replay
   * applies them again without counting any twice.
   */
  history?: StageSample[];
  /** The journaled commit these writes belong to (tagged on each snapshot, so a replay knows its own). */
  commit: CommitRef | null;
  /** Replaying: a snapshot already tagged with this commit was written before a crash and is skipped. */
  replay: boolean;
  /**
   * One item per write, for a journaled commit whose grouped writes the store refused (WriteRefusedError):
   * each snapshot alone, then the index and the checkpoint. Only with `replay` (the commit tags make each
   * write idempotent); a store whose writes are atomic anyway may ignore it.
   */
  singly?: boolean;
}
