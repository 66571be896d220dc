import type { NotifierEvent } from '../core/events/catalogue.js';
import type { StageHistory, StageSample } from '../core/history.js';
import type { InvalidRecord } from '../core/invalid-record.js';
import type { Order } from '../core/order.js';
import type { Snapshot } from '../core/snapshot.js';
import type { CallBounds } from '../shared/timing.js';

/** Which orders to fetch. The adapter turns these into API filters. */
export type ScanQuery =
  /** draft and confirmed orders, with stages, from `page` */
  | { kind: 'open'; page?: number }
  /** complete or cancelled orders whose stages are still pending, from `page` */
  | { kind: 'pending-closed'; page?: number }
  /** complete orders not all received (due-date signals watch them: docs/contract.md 1b), from `page` */
  | { kind: 'undelivered-complete'; page?: number }
  /** orders with an id above `sinceId`, from `page` */
  | { kind: 'new'; sinceId: number; page?: number }
  /** every order (baseline and reconciliation sweep), from `page` */
  | { kind: 'all'; page: number };

/** The query kinds that make up the watched set, scanned in this order (resumable across cycles). */
export type WatchedQuery = Extract<ScanQuery['kind'], 'open' | 'pending-closed' | 'undelivered-complete'>;

export interface SourcePage {
  page: number;
  orders: Order[];
  /** Records that did not parse: reported and skipped, never fatal. */
  invalid: InvalidRecord[];
  /** The next page of this query, or null at the end. */
  nextPage: number | null;
}

export type LookupResult =
  | { kind: 'found'; order: Order }
  | { kind: 'absent' }
  | { kind: 'unreadable'; error: InvalidRecord };

/**
 * What bounds a call: the cycle's deadline. `signal` aborts in-flight I/O when it passes; `remainingMs`
 * lets a caller refuse to start a wait (a retry, a Retry-After) that would outlast it.
 */
export type { CallBounds } from '../shared/timing.js';

/** Where orders come from: the Uphance API in production and locally. */
export interface OrderSource {
  /** Pages of a query; stops with a DeadlineExceededError when the bounds run out. */
  scan(query: ScanQuery, bounds?: CallBounds): AsyncIterable<SourcePage>;
  /** A targeted look-up of one order that left the watched set (a bounded number of requests). */
  lookup(order: { id: number; number: string }, bounds?: CallBounds): Promise<LookupResult>;
  /**
   * The orders whose number is exactly `number` (a webhook named it): a search by number, a bounded number
   * of requests. Optional: a source without it cannot serve targeted checks.
   */
  findByNumber?(number: string, bounds?: CallBounds): Promise<NumberLookup>;
}

/** What a search by order number found: exact matches only, and records that did not parse. */
export interface NumberLookup {
  orders: Order[];
  invalid: InvalidRecord[];
}

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

/**
 * One lease: an organisation's state (its writes are fenced by the generation), or a set of Uphance
 * credentials (whose selected organisation is shared by every runner that uses them).
 */
export interface LeaseStore {
  /** Takes the lease if it is free, expired or already ours; otherwise says who holds it. */
  acquire(claim: LeaseClaim): Promise<LeaseOutcome>;
  /** Takes the lease from `holder` (a dead process), only if it is still exactly that holder's. */
  takeOver(claim: LeaseClaim, holder: Lease): Promise<LeaseOutcome>;
  release(lease: Lease): Promise<void>;
}

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

/** Snapshots, checkpoint, journal, set-aside events and lease, scoped to one Uphance organisation. */
export interface StateStore {
  /** Takes the lease if it is free, expired or already ours; otherwise says who holds it. */
  acquireLease(claim: LeaseClaim): Promise<LeaseOutcome>;
  /** Takes the lease from `holder` (a dead process), only if it is still exactly that holder's. */
  takeOverLease(claim: LeaseClaim, holder: Lease): Promise<LeaseOutcome>;
  releaseLease(lease: Lease): Promise<void>;
  getCheckpoint(): Promise<Checkpoint | undefined>;
  getSnapshots(orderIds: number[]): Promise<Map<number, StoredSnapshot>>;
  /**
   * The index of watched orders, read whole (a few items): a cycle reads a snapshot only for an order
   * that is not in it, whose fingerprint differs, or whose `dueAt` has come.
   */
  readIndex(): Promise<Map<number, IndexEntry>>;
  /** The organisation's stage history (empty when none was written yet). */
  readHistory(): Promise<StageHistory>;
  /** Every snapshot's order id, in batches (the reconciliation sweep's removal check). */
  listSnapshotIds(): AsyncIterable<number[]>;
  /** Whether a snapshot fits in one item; one that does not is never written (the order is set aside). */
  snapshotFits(snapshot: Snapshot): boolean;
  readJournal(): Promise<Journal>;
  writeJournalPart(fence: Fence, part: JournalPart): Promise<void>;
  sealJournal(fence: Fence, seal: JournalSeal): Promise<void>;
  /**
   * Snapshot writes (conditional on the version read), the index entries that describe them (in the same
   * atomic write as their snapshots), index updates, stage history samples (merged into what is stored)
   * and the checkpoint. Throws ConflictError.
   */
  applyWrites(fence: Fence, writes: StateWrites): Promise<void>;
  /** Removes a commit: the seal first, so that a crash part-way leaves only unsealed parts (discarded later). */
  clearJournal(fence: Fence, commit: CommitRef, parts: number[]): Promise<void>;
  setAside(fence: Fence, events: SetAsideEvent[]): Promise<void>;
  listSetAside(): Promise<SetAsideEvent[]>;
  removeSetAside(fence: Fence, eventIds: string[]): Promise<void>;
}

export interface PublishOptions {
  signal?: AbortSignal;
  remainingMs?: () => number;
}

export interface PublishResult {
  /** Events refused for good (the rest were all accepted). */
  rejected: Array<{ event: NotifierEvent; reason: string }>;
}

/**
 * Where events go: EventBridge, or stdout for the command line. Resolves when every event was accepted
 * or refused for good; rejects when some could not be delivered yet (they are retried from the journal).
 */
export interface EventSink {
  publish(events: NotifierEvent[], options?: PublishOptions): Promise<PublishResult>;
}

export interface Logger {
  debug(message: string, fields?: Record<string, unknown>): void;
  info(message: string, fields?: Record<string, unknown>): void;
  warn(message: string, fields?: Record<string, unknown>): void;
  error(message: string, fields?: Record<string, unknown>): void;
}

export const silentLogger: Logger = { debug() {}, info() {}, warn() {}, error() {} };

/** A fenced write was refused: another runner has taken the lease since. */
export class LeaseLostError extends Error {
  override readonly name = 'LeaseLostError';
}

export class ConflictError extends Error {
  override readonly name = 'ConflictError';
}

export { DeadlineExceededError } from '../shared/timing.js';

/**
 * Orders of another organisation than the one this state belongs to. `state`: the state itself belongs to
 * another organisation than the one configured (a configuration error); `selection`: the API answered for
 * another organisation than the one selected. Nothing from such orders is diffed, stored or emitted.
 */
export class OrganisationMismatchError extends Error {
  override readonly name = 'OrganisationMismatchError';
  constructor(
    message: string,
    readonly kind: 'state' | 'selection',
    readonly expected: number,
    readonly actual: number,
  ) {
    super(message);
  }
}

/**
 * The store refused a write for good: a request it will never accept as it was sent (DynamoDB's
 * ValidationException, or a transaction the store's own checks stop before sending it). Retrying the same
 * request is pointless; writing its items one at a time may not be.
 */
export class WriteRefusedError extends Error {
  override readonly name = 'WriteRefusedError';
}

/** A state item would exceed the store's item size limit. */
export class ItemTooLargeError extends Error {
  override readonly name = 'ItemTooLargeError';
}
