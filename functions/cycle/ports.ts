import type { NotifierEvent } from '../core/events/catalogue.js';
import type { StageHistory } from '../core/history.js';
import type { InvalidRecord } from '../core/invalid-record.js';
import type { Order } from '../core/order.js';
import type { Snapshot } from '../core/snapshot.js';
import type { CallBounds } from '../shared/timing.js';
import type {
  Checkpoint,
  CommitRef,
  Fence,
  IndexEntry,
  Journal,
  JournalPart,
  JournalSeal,
  Lease,
  LeaseClaim,
  LeaseOutcome,
  SetAsideEvent,
  StateWrites,
  StoredSnapshot,
} from './records.js';

/**
 * The ports the cycle runs against: where orders come from (OrderSource), where its state is kept
 * (StateStore, and the narrower ports it is made of), the leases (LeaseStore), where events go (EventSink)
 * and where it logs. The records they carry are in records.ts, the errors they throw in errors.ts.
 */

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

/**
 * The state's own lease, on the store whose writes it fences (cycle.ts hands it to turns.ts as a
 * LeaseStore). Named apart from LeaseStore's methods so that one store carries it beside the rest.
 */
interface StateLease {
  /** Takes the lease if it is free, expired or already ours; otherwise says who holds it. */
  acquireLease(claim: LeaseClaim): Promise<LeaseOutcome>;
  /** Takes the lease from `holder` (a dead process), only if it is still exactly that holder's. */
  takeOverLease(claim: LeaseClaim, holder: Lease): Promise<LeaseOutcome>;
  releaseLease(lease: Lease): Promise<void>;
}

interface CheckpointStore {
  getCheckpoint(): Promise<Checkpoint | undefined>;
}

/** The snapshots and what describes them without reading them: the index and the stage history. */
export interface SnapshotStore {
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
}

/** The commits' redo records: parts, then a seal (see cycle/commit.ts). */
export interface JournalStore {
  readJournal(): Promise<Journal>;
  writeJournalPart(fence: Fence, part: JournalPart): Promise<void>;
  sealJournal(fence: Fence, seal: JournalSeal): Promise<void>;
  /** Removes a commit: the seal first, so that a crash part-way leaves only unsealed parts (discarded later). */
  clearJournal(fence: Fence, commit: CommitRef, parts: number[]): Promise<void>;
}

export interface StateWriter {
  /**
   * Snapshot writes (conditional on the version read), the index entries that describe them (in the same
   * atomic write as their snapshots), index updates, stage history samples (merged into what is stored)
   * and the checkpoint. Throws ConflictError.
   */
  applyWrites(fence: Fence, writes: StateWrites): Promise<void>;
}

/** Events the bus refused for good, kept for resending. */
export interface SetAsideStore {
  setAside(fence: Fence, events: SetAsideEvent[]): Promise<void>;
  listSetAside(): Promise<SetAsideEvent[]>;
  removeSetAside(fence: Fence, eventIds: string[]): Promise<void>;
}

/** Snapshots, checkpoint, journal, set-aside events and lease, scoped to one Uphance organisation. */
export interface StateStore
  extends StateLease,
    CheckpointStore,
    SnapshotStore,
    JournalStore,
    StateWriter,
    SetAsideStore {}

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
