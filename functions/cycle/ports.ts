import type { InvalidRecord } from '../core/api-schema.js';
import type { NotifierEvent } from '../core/events/catalogue.js';
import type { Order } from '../core/order.js';
import type { Snapshot } from '../core/snapshot.js';

/** Which orders to fetch. The adapter turns these into API filters. */
export type ScanQuery =
  /** draft and confirmed orders, with stages */
  | { kind: 'open' }
  /** complete or cancelled orders whose stages are still pending */
  | { kind: 'pending-closed' }
  /** complete orders not all received (due-date signals watch them: CONTRACT 1b) */
  | { kind: 'undelivered-complete' }
  /** orders with an id above `sinceId` */
  | { kind: 'new'; sinceId: number }
  /** every order (baseline and reconciliation sweep), from `page` */
  | { kind: 'all'; page: number };

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

/** Where orders come from: the Uphance API in production and locally. */
export interface OrderSource {
  scan(query: ScanQuery): AsyncIterable<SourcePage>;
  /** A targeted look-up of one order that left the watched set. */
  lookup(order: { id: number; number: string }): Promise<LookupResult>;
}

export interface Lease {
  owner: string;
  /** Fencing token, strictly increasing across holders. */
  generation: number;
  expiresAt: number;
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
}

export interface SweepProgress {
  /** Next page of the `all` query to fetch. */
  page: number;
  startedAt: string;
  /** Whether this sweep started at page 1 in one go so far (removals can only be concluded then). */
  unbroken: boolean;
}

export interface Checkpoint {
  v: 1;
  /** Set once the first sight of the account has been recorded. */
  baselineAt: string | null;
  /** Highest order id seen: newer orders come in through since_id. */
  highestId: number;
  /** Ids of the orders still watched (open, or with stages pending). */
  watched: number[];
  lastSweepAt: string | null;
  sweep: SweepProgress | null;
}

/**
 * A redo record: what one commit is about to do. Written before anything else of the commit, replayed by
 * the next cycle if the commit did not finish, removed when it did.
 */
export interface JournalEntry {
  generation: number;
  part: number;
  events: NotifierEvent[];
  writes: SnapshotWrite[];
  checkpoint: Checkpoint | null;
}

/** Snapshots, checkpoint, journal and lease, scoped to one Uphance organisation. */
export interface StateStore {
  acquireLease(owner: string, nowMs: number, ttlMs: number): Promise<Lease | undefined>;
  /** Fencing: throws LeaseLostError unless the lease is still ours and unexpired. */
  assertLease(lease: Lease, nowMs: number): Promise<void>;
  releaseLease(lease: Lease): Promise<void>;
  getCheckpoint(): Promise<Checkpoint | undefined>;
  putCheckpoint(checkpoint: Checkpoint): Promise<void>;
  getSnapshots(orderIds: number[]): Promise<Map<number, StoredSnapshot>>;
  /** Every snapshot's order id, in batches (the reconciliation sweep's removal check). */
  listSnapshotIds(): AsyncIterable<number[]>;
  /**
   * Conditional writes. With `replay`, a write whose item is already past `expectedRev` (it was applied
   * before a crash) is skipped instead of failing.
   */
  writeSnapshots(writes: SnapshotWrite[], options: { replay: boolean }): Promise<void>;
  readJournal(): Promise<JournalEntry[]>;
  writeJournal(entry: JournalEntry): Promise<void>;
  deleteJournal(entry: Pick<JournalEntry, 'generation' | 'part'>): Promise<void>;
}

/** Where events go: EventBridge, or stdout for the command line. Resolves only when all were accepted. */
export interface EventSink {
  publish(events: NotifierEvent[]): Promise<void>;
}

export interface Logger {
  debug(message: string, fields?: Record<string, unknown>): void;
  info(message: string, fields?: Record<string, unknown>): void;
  warn(message: string, fields?: Record<string, unknown>): void;
  error(message: string, fields?: Record<string, unknown>): void;
}

export const silentLogger: Logger = { debug() {}, info() {}, warn() {}, error() {} };

export class LeaseLostError extends Error {
  override readonly name = 'LeaseLostError';
}

export class ConflictError extends Error {
  override readonly name = 'ConflictError';
}
