import { randomBytes } from 'node:crypto';
import { mkdir, open, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { dirname } from 'node:path';
import type { PackedHistory } from '../core/history.js';
import { StageHistory } from '../core/history.js';
import type { Snapshot } from '../core/snapshot.js';
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
  StateStore,
  StateWrites,
  StoredSnapshot,
} from '../cycle/ports.js';
import { ConflictError, commitIdOf, LeaseLostError } from '../cycle/ports.js';
import { processRuns } from '../shared/process.js';
import { sleep } from '../shared/timing.js';

interface FileState {
  format: 'uphance-notifier-state';
  version: 2;
  checkpoint: Checkpoint | null;
  /** `commit`: the journaled commit that last wrote the snapshot (replays recognise their own writes). */
  snapshots: Record<string, { rev: number; snapshot: Snapshot; commit?: string }>;
  journal: JournalPart[];
  seals: JournalSeal[];
  setAside: SetAsideEvent[];
  /** The index of watched orders, by order id (absent in files written before it: read as empty). */
  index?: Record<string, IndexEntry>;
  /** The stage history (core/history.ts), packed; absent until a commit brought samples. */
  history?: PackedHistory;
}

/** Version 1 kept one journal record per commit part, without seals: each is replayed as a sealed commit. */
interface FileStateV1 {
  format: 'uphance-notifier-state';
  version: 1;
  checkpoint: Checkpoint | null;
  snapshots: FileState['snapshots'];
  journal: Array<Omit<JournalPart, 'commit'>>;
}

const emptyState = (): FileState => ({
  format: 'uphance-notifier-state',
  version: 2,
  checkpoint: null,
  snapshots: {},
  journal: [],
  seals: [],
  setAside: [],
});

const upgrade = (v1: FileStateV1): FileState => ({
  ...emptyState(),
  checkpoint: v1.checkpoint,
  snapshots: v1.snapshots,
  // Numbered below zero: commits without tags, whose replays skip snapshots already past their version.
  journal: v1.journal.map((e) => ({ ...e, commit: -e.part - 1, part: 0 })),
  seals: v1.journal.map((e) => ({ generation: e.generation, commit: -e.part - 1, parts: 1 })),
});

interface LeaseFile {
  lease: Lease | null;
  /** Survives the lease's release so that fencing tokens keep increasing. */
  lastGeneration: number;
}

const writeAtomically = async (path: string, text: string): Promise<void> => {
  await mkdir(dirname(path), { recursive: true });
  const temp = `${path}.${randomBytes(6).toString('hex')}.tmp`;
  await writeFile(temp, text);
  await rename(temp, path);
};

/** An unreadable lock file (its writer died between creating and filling it) older than this is stale. */
const STALE_LOCK_MS = 10_000;
/** A lock of another host (a shared file system) is trusted this long. */
const FOREIGN_LOCK_MS = 10 * 60_000;

interface LockFile {
  token: string;
  host: string;
  pid: number;
}

const readLock = async (path: string): Promise<LockFile | undefined> => {
  try {
    const parsed = JSON.parse(await readFile(path, 'utf8')) as LockFile;
    return typeof parsed.token === 'string' ? parsed : undefined;
  } catch {
    return undefined;
  }
};

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

  constructor(readonly path: string) {
    this.leasePath = `${path}.lease`;
  }

  async #leaseFile(): Promise<LeaseFile> {
    try {
      return JSON.parse(await readFile(this.leasePath, 'utf8')) as LeaseFile;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return { lease: null, lastGeneration: 0 };
      throw new Error(`cannot read the lease file ${this.leasePath}: ${(error as Error).message}`);
    }
  }

  async #read(): Promise<FileState> {
    let text: string;
    try {
      text = await readFile(this.path, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return emptyState();
      throw new Error(`cannot read the state file ${this.path}: ${(error as Error).message}`);
    }
    let parsed: FileState | FileStateV1;
    try {
      parsed = JSON.parse(text) as FileState | FileStateV1;
    } catch {
      throw new Error(`the state file ${this.path} is not valid JSON; move it away to start a new baseline`);
    }
    if (parsed.format !== 'uphance-notifier-state' || (parsed.version !== 1 && parsed.version !== 2)) {
      throw new Error(`${this.path} is not an uphance-notifier state file (format version 1 or 2)`);
    }
    return parsed.version === 1 ? upgrade(parsed) : parsed;
  }

  async #load(): Promise<FileState> {
    this.#state ??= await this.#read();
    return this.#state;
  }

  /**
   * Runs `work` under an exclusive lock file (O_EXCL), so that two processes on one state file never
   * interleave their read-modify-writes. The lock names its holder (host, pid and a token): it is broken
   * only when that process no longer runs on this host (never by age alone, which would let a paused
   * process write over a newer one), and removed only by the holder whose token it still carries.
   */
  async #locked<T>(work: () => Promise<T>): Promise<T> {
    const lockPath = `${this.leasePath}.lock`;
    await mkdir(dirname(lockPath), { recursive: true });
    const token = randomBytes(8).toString('hex');
    const mine: LockFile = { token, host: hostname(), pid: process.pid };
    for (let attempt = 0; ; attempt++) {
      try {
        const handle = await open(lockPath, 'wx');
        await handle.writeFile(JSON.stringify(mine));
        await handle.close();
        break;
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
        if (await this.#abandonedLock(lockPath)) await rm(lockPath, { force: true });
        else if (attempt > 3_000)
          throw new Error(`the lease file ${this.leasePath} stays locked by another process`);
        else await sleep(10);
      }
    }
    try {
      return await work();
    } finally {
      const held = await readLock(lockPath);
      if (held?.token === token) await rm(lockPath, { force: true });
    }
  }

  /** A lock whose process is gone (this host), or unreadable and old, or another host's and very old. */
  async #abandonedLock(lockPath: string): Promise<boolean> {
    const age = await stat(lockPath).then(
      (s) => Date.now() - s.mtimeMs,
      () => 0,
    );
    const held = await readLock(lockPath);
    if (!held) return age > STALE_LOCK_MS;
    if (held.host === hostname()) return !processRuns(held.pid);
    return age > FOREIGN_LOCK_MS;
  }

  /** A fenced change of the state: under the lock, only while `fence.lease` is the current lease. */
  async #fenced(fence: Fence, change: (state: FileState) => void): Promise<void> {
    await this.#locked(async () => {
      const held = (await this.#leaseFile()).lease;
      if (!held || held.owner !== fence.lease.owner || held.generation !== fence.lease.generation) {
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

  async #take(claim: LeaseClaim, mayTake: (file: LeaseFile) => boolean): Promise<LeaseOutcome> {
    const outcome = await this.#locked(async (): Promise<LeaseOutcome> => {
      const file = await this.#leaseFile();
      if (file.lease && !mayTake(file)) return { kind: 'held', holder: file.lease };
      const generation = Math.max(file.lastGeneration, file.lease?.generation ?? 0) + 1;
      const lease: Lease = {
        owner: claim.owner,
        ...(claim.host === undefined ? {} : { host: claim.host }),
        ...(claim.pid === undefined ? {} : { pid: claim.pid }),
        generation,
        expiresAt: claim.nowMs + claim.ttlMs,
      };
      await writeAtomically(this.leasePath, JSON.stringify({ lease, lastGeneration: generation }));
      return { kind: 'acquired', lease };
    });
    // Start each cycle from what is on disk.
    this.#state = undefined;
    return outcome;
  }

  acquireLease(claim: LeaseClaim): Promise<LeaseOutcome> {
    return this.#take(
      claim,
      (file) => !file.lease || file.lease.expiresAt <= claim.nowMs || file.lease.owner === claim.owner,
    );
  }

  takeOverLease(claim: LeaseClaim, holder: Lease): Promise<LeaseOutcome> {
    return this.#take(
      claim,
      (file) =>
        !file.lease ||
        file.lease.expiresAt <= claim.nowMs ||
        (file.lease.owner === holder.owner && file.lease.generation === holder.generation),
    );
  }

  async releaseLease(lease: Lease): Promise<void> {
    await this.#locked(async () => {
      const file = await this.#leaseFile();
      if (file.lease?.owner === lease.owner && file.lease.generation === lease.generation) {
        await writeAtomically(
          this.leasePath,
          JSON.stringify({ lease: null, lastGeneration: Math.max(file.lastGeneration, lease.generation) }),
        );
      }
    });
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
