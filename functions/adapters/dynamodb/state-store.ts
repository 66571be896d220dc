import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { StageHistory } from '../../core/history.js';
import type { Snapshot } from '../../core/snapshot.js';
import type { StateStore } from '../../cycle/ports.js';
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
} from '../../cycle/records.js';
import { commitIdOf } from '../../cycle/records.js';
import { sleep } from '../../shared/timing.js';
import { HistoryShards } from './history.js';
import { IndexShards } from './index-shards.js';
import { unpack } from './items.js';
import { commitDeletes, partPut, readJournal, sealPut } from './journal.js';
import { CHECKPOINT_KEY, isLegacy, partitionOf } from './keys.js';
import { DynamoLease } from './lease.js';
import { Partition } from './partition.js';
import { readSetAside, setAsideDeletes, setAsidePuts } from './set-aside.js';
import { readSnapshots, snapshotFits, snapshotIds, snapshotPut } from './snapshots.js';
import type { DynamoStats } from './stats.js';
import { emptyDynamoStats, statsMeter } from './stats.js';
import { FencedTransactions } from './transactions.js';

export interface DynamoStoreOptions {
  client: DynamoDBClient;
  tableName: string;
  /** Scopes every key, so that one table can serve several Uphance organisations. */
  organisation: string;
  /** Where to count requests and capacity (shared by the stores of one runner); a new count by default. */
  stats?: DynamoStats;
  sleep?: (ms: number, signal?: AbortSignal) => Promise<unknown>;
  random?: () => number;
}

/**
 * State in one DynamoDB table (pk, sk). Per organisation (keys.ts): one item per order snapshot (deflated
 * JSON, a version number and the journaled commit that wrote it), the index of watched orders and the
 * stage history in shards, one checkpoint item, journal parts and seals, set-aside events, and one lease
 * item whose generation counts acquisitions (never deleted, so the counter survives releases). Every state
 * write is a transaction that checks the lease generation first (transactions.ts): once another runner
 * holds the lease, nothing the old holder sends is applied. Reads are strongly consistent.
 */
export class DynamoStateStore implements StateStore {
  readonly stats: DynamoStats;
  readonly #partition: Partition;
  readonly #lease: DynamoLease;
  readonly #index: IndexShards;
  readonly #history: HistoryShards;
  readonly #transactions: FencedTransactions;

  constructor(options: DynamoStoreOptions) {
    this.stats = options.stats ?? emptyDynamoStats();
    const pk = partitionOf(options.organisation);
    const common = {
      client: options.client,
      tableName: options.tableName,
      pk,
      sleep: options.sleep ?? sleep,
      random: options.random ?? Math.random,
    };
    this.#partition = new Partition({ ...common, stats: this.stats });
    this.#lease = new DynamoLease({ ...common, meter: statsMeter(this.stats) });
    this.#index = new IndexShards(this.#partition);
    this.#history = new HistoryShards(this.#partition);
    this.#transactions = new FencedTransactions({
      partition: this.#partition,
      leaseKey: this.#lease.key,
      // A refused shard version means the shards held here are not the table's: read them again.
      onConflict: () => this.#index.forget(),
    });
  }

  // The reads and writes are async methods, so that a write refused before sending (an item too large)
  // rejects its promise rather than throwing.

  /** A new lease starts from what the table holds, not from what an earlier one read. */
  #forgetHeld(): void {
    this.#index.forget();
    this.#history.forget();
  }

  acquireLease(claim: LeaseClaim): Promise<LeaseOutcome> {
    this.#forgetHeld();
    return this.#lease.acquire(claim);
  }

  takeOverLease(claim: LeaseClaim, holder: Lease): Promise<LeaseOutcome> {
    this.#forgetHeld();
    return this.#lease.takeOver(claim, holder);
  }

  releaseLease(lease: Lease): Promise<void> {
    return this.#lease.release(lease);
  }

  async getCheckpoint(): Promise<Checkpoint | undefined> {
    const item = await this.#partition.get(CHECKPOINT_KEY);
    return item?.data?.B ? unpack<Checkpoint>(item.data.B) : undefined;
  }

  async getSnapshots(orderIds: number[]): Promise<Map<number, StoredSnapshot>> {
    return readSnapshots(this.#partition, orderIds);
  }

  async readIndex(): Promise<Map<number, IndexEntry>> {
    return this.#index.read();
  }

  async readHistory(): Promise<StageHistory> {
    return this.#history.read();
  }

  listSnapshotIds(): AsyncIterable<number[]> {
    return snapshotIds(this.#partition);
  }

  snapshotFits(snapshot: Snapshot): boolean {
    return snapshotFits(snapshot);
  }

  async readJournal(): Promise<Journal> {
    return readJournal(this.#partition);
  }

  async writeJournalPart(fence: Fence, part: JournalPart): Promise<void> {
    return this.#transactions.write(fence, [partPut(this.#partition, part)]);
  }

  async sealJournal(fence: Fence, seal: JournalSeal): Promise<void> {
    return this.#transactions.write(fence, [sealPut(this.#partition, seal)]);
  }

  /**
   * Snapshots with the index shards that describe them (index-shards.ts), the stage history's shards,
   * then the checkpoint.
   *
   * `singly` (a replay whose packed transactions DynamoDB refused): one transaction per item, each led by
   * the lease check: every snapshot alone, then each shard as it ends, then the checkpoint. Between them a
   * shard may describe an older snapshot; that is safe because the commit stays sealed until it is done,
   * and every run finishes the journal before it reads the index.
   */
  async applyWrites(fence: Fence, writes: StateWrites): Promise<void> {
    const tag = writes.commit ? commitIdOf(writes.commit) : undefined;
    let list = writes.writes;
    if (writes.replay && writes.commit && isLegacy(writes.commit)) {
      // Old records carry no commit tag: a snapshot already past the version they read was written by them.
      const current = await this.getSnapshots(list.map((w) => w.orderId));
      list = list.filter((w) => (current.get(w.orderId)?.rev ?? 0) <= w.expectedRev);
    }
    const singly = writes.singly === true;
    const groups = await this.#index.groups(
      list,
      writes.index ?? [],
      (write) => snapshotPut(this.#partition, write, tag, writes.replay),
      singly,
    );
    if (writes.history?.length) groups.push(...(await this.#history.groups(writes.history)));
    if (writes.checkpoint) groups.push({ writes: [this.#partition.put(CHECKPOINT_KEY, writes.checkpoint)] });
    if (!singly) return this.#transactions.writeGroups(fence, groups);
    for (const group of groups) await this.#transactions.writeGroups(fence, [group]);
  }

  async clearJournal(fence: Fence, commit: CommitRef, parts: number[]): Promise<void> {
    return this.#transactions.write(fence, commitDeletes(this.#partition, commit, parts));
  }

  async setAside(fence: Fence, events: SetAsideEvent[]): Promise<void> {
    return this.#transactions.write(fence, setAsidePuts(this.#partition, events));
  }

  async listSetAside(): Promise<SetAsideEvent[]> {
    return readSetAside(this.#partition);
  }

  async removeSetAside(fence: Fence, eventIds: string[]): Promise<void> {
    return this.#transactions.write(fence, setAsideDeletes(this.#partition, eventIds));
  }
}
