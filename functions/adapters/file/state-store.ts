import { StageHistory } from '../../core/history.js';
import { ConflictError, LeaseLostError } from '../../cycle/errors.js';
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
import { FileLease } from './lease.js';
import { writeAtomically } from './lock.js';
import type { FileState } from './state-file.js';
import { readStateFile } from './state-file.js';

/**
 * The command line's state: one JSON file, every change written atomically (temp file, then rename).
 * The lease lives beside it in FILE.lease. Every change of either file happens under an exclusive lock
 * file (O_EXCL) and, for the state, only while the lease file still names the writer's generation: a
 * runner that lost its lease cannot write anything (fencing). A cycle that fails leaves FILE as it was or
 * advanced by whole writes.
 */
export class FileStateStore implements StateStore {
  #state: FileState | undefined;
  readonly leasePath: string;
  readonly #lease: FileLease;

  constructor(readonly path: string) {
    this.leasePath = `${path}.lease`;
    this.#lease = new FileLease(this.leasePath);
  }

  async #load(): Promise<FileState> {
    this.#state ??= await readStateFile(this.path);
    return this.#state;
  }

  /** A fenced change of the state: under the lock, only while `fence.lease` is the current lease. */
  async #fenced(fence: Fence, change: (state: FileState) => void): Promise<void> {
    await this.#lease.locked(async () => {
      const holds = await this.#lease.holds(fence.lease);
      if (!holds.ok) {
        const held = holds.current;
        throw new LeaseLostError(
          `lease ${fence.lease.generation} of ${fence.lease.owner} was taken over (now ${held ? `${held.generation} of ${held.owner}` : 'free'}); nothing written`,
        );
      }
      // Work on a copy: a failed write leaves the cached state as it is on disk.
      const next = structuredClone(await this.#load());
      change(next);
      await writeAtomically(this.path, JSON.stringify(next));
      this.#state = next;
    });
  }

  async acquireLease(claim: LeaseClaim): Promise<LeaseOutcome> {
    const outcome = await this.#lease.acquire(claim);
    // Start each cycle from what is on disk.
    this.#state = undefined;
    return outcome;
  }

  async takeOverLease(claim: LeaseClaim, holder: Lease): Promise<LeaseOutcome> {
    const outcome = await this.#lease.takeOver(claim, holder);
    this.#state = undefined;
    return outcome;
  }

  releaseLease(lease: Lease): Promise<void> {
    return this.#lease.release(lease);
  }

  async getCheckpoint(): Promise<Checkpoint | undefined> {
    return structuredClone((await this.#load()).checkpoint ?? undefined);
  }

  async getSnapshots(orderIds: number[]): Promise<Map<number, StoredSnapshot>> {
    const state = await this.#load();
    const found = new Map<number, StoredSnapshot>();
    for (const id of orderIds) {
      const item = state.snapshots[String(id)];
      if (item) found.set(id, structuredClone({ rev: item.rev, snapshot: item.snapshot }));
    }
    return found;
  }

  async *listSnapshotIds(): AsyncIterable<number[]> {
    yield Object.keys((await this.#load()).snapshots).map(Number);
  }

  /** One JSON file has no item limit. */
  snapshotFits(): boolean {
    return true;
  }

  async readJournal(): Promise<Journal> {
    const state = await this.#load();
    return structuredClone({ parts: state.journal, seals: state.seals });
  }

  writeJournalPart(fence: Fence, part: JournalPart): Promise<void> {
    return this.#fenced(fence, (state) => {
      state.journal.push(structuredClone(part));
    });
  }

  sealJournal(fence: Fence, seal: JournalSeal): Promise<void> {
    return this.#fenced(fence, (state) => {
      state.seals.push({ ...seal });
    });
  }

  async readIndex(): Promise<Map<number, IndexEntry>> {
    const index = (await this.#load()).index ?? {};
    return new Map(Object.entries(index).map(([id, entry]) => [Number(id), { ...entry }]));
  }

  async readHistory(): Promise<StageHistory> {
    return StageHistory.fromPacked((await this.#load()).history);
  }

  /**
   * Snapshots, their index entries, index updates, the stage history's new samples and the checkpoint: one
   * file write, all or nothing.
   */
  applyWrites(fence: Fence, writes: StateWrites): Promise<void> {
    const tag = writes.commit ? commitIdOf(writes.commit) : undefined;
    return this.#fenced(fence, (state) => {
      const index = state.index ?? {};
      state.index = index;
      for (const write of writes.writes) {
        const key = String(write.orderId);
        // The entry describes the snapshot as this write leaves it (also when a replay skips the write).
        if (write.indexed) index[key] = { ...write.indexed, rev: write.expectedRev + 1 };
        else delete index[key];
        const current = state.snapshots[key];
        const rev = current?.rev ?? 0;
        if (rev !== write.expectedRev) {
          // Replaying: this commit's own write, applied before a crash.
          if (writes.replay && tag !== undefined && current?.commit === tag) continue;
          if (writes.replay && writes.commit && writes.commit.commit < 0 && rev > write.expectedRev) continue;
          throw new ConflictError(
            `snapshot of order ${write.orderId} is at version ${rev}, expected ${write.expectedRev}: another writer changed it`,
          );
        }
        state.snapshots[key] = {
          rev: rev + 1,
          snapshot: structuredClone(write.snapshot),
          ...(tag === undefined ? {} : { commit: tag }),
        };
      }
      for (const update of writes.index ?? []) {
        if (update.entry) index[String(update.orderId)] = { ...update.entry };
        else delete index[String(update.orderId)];
      }
      if (writes.history && writes.history.length > 0) {
        const history = StageHistory.fromPacked(state.history);
        if (history.merge(writes.history).length > 0) state.history = history.packed();
      }
      if (writes.checkpoint) state.checkpoint = structuredClone(writes.checkpoint);
    });
  }

  clearJournal(fence: Fence, commit: CommitRef, parts: number[]): Promise<void> {
    const id = commitIdOf(commit);
    const gone = new Set(parts);
    return this.#fenced(fence, (state) => {
      state.seals = state.seals.filter((s) => commitIdOf(s) !== id);
      state.journal = state.journal.filter((p) => commitIdOf(p) !== id || !gone.has(p.part));
    });
  }

  setAside(fence: Fence, events: SetAsideEvent[]): Promise<void> {
    return this.#fenced(fence, (state) => {
      const known = new Set(state.setAside.map((e) => e.event.detail.eventId));
      for (const event of events) if (!known.has(event.event.detail.eventId)) state.setAside.push(event);
    });
  }

  async listSetAside(): Promise<SetAsideEvent[]> {
    return structuredClone((await this.#load()).setAside);
  }

  removeSetAside(fence: Fence, eventIds: string[]): Promise<void> {
    const gone = new Set(eventIds);
    return this.#fenced(fence, (state) => {
      state.setAside = state.setAside.filter((e) => !gone.has(e.event.detail.eventId));
    });
  }
}
