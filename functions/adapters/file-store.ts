import { randomBytes } from 'node:crypto';
import { mkdir, open, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { Snapshot } from '../core/snapshot.js';
import type {
  Checkpoint,
  JournalEntry,
  Lease,
  SnapshotWrite,
  StateStore,
  StoredSnapshot,
} from '../cycle/ports.js';
import { ConflictError, LeaseLostError } from '../cycle/ports.js';

interface FileState {
  format: 'uphance-notifier-state';
  version: 1;
  checkpoint: Checkpoint | null;
  snapshots: Record<string, { rev: number; snapshot: Snapshot }>;
  journal: JournalEntry[];
}

const emptyState = (): FileState => ({
  format: 'uphance-notifier-state',
  version: 1,
  checkpoint: null,
  snapshots: {},
  journal: [],
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

/**
 * The command line's state: one JSON file, every change written atomically (temp file, then rename).
 * The lease lives beside it in FILE.lease (taken under an O_EXCL lock file, so that two processes on one
 * file never both run), and a cycle that fails leaves FILE exactly as it was.
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

  async #load(): Promise<FileState> {
    if (this.#state) return this.#state;
    let text: string;
    try {
      text = await readFile(this.path, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') {
        this.#state = emptyState();
        return this.#state;
      }
      throw new Error(`cannot read the state file ${this.path}: ${(error as Error).message}`);
    }
    let parsed: FileState;
    try {
      parsed = JSON.parse(text) as FileState;
    } catch {
      throw new Error(`the state file ${this.path} is not valid JSON; move it away to start a new baseline`);
    }
    if (parsed.format !== 'uphance-notifier-state' || parsed.version !== 1) {
      throw new Error(`${this.path} is not an uphance-notifier state file (format version 1)`);
    }
    this.#state = parsed;
    return parsed;
  }

  async #save(): Promise<void> {
    await writeAtomically(this.path, JSON.stringify(await this.#load()));
  }

  /**
   * Runs a read-modify-write of the lease file under an exclusive lock file (O_EXCL), so that two
   * processes on one state file cannot both take the lease. A lock left by a dead process goes stale.
   */
  async #locked<T>(work: () => Promise<T>): Promise<T> {
    const lockPath = `${this.leasePath}.lock`;
    await mkdir(dirname(lockPath), { recursive: true });
    for (let attempt = 0; ; attempt++) {
      try {
        const handle = await open(lockPath, 'wx');
        await handle.close();
        break;
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
        const age = await stat(lockPath).then(
          (s) => Date.now() - s.mtimeMs,
          () => 0,
        );
        if (age > 10_000) await rm(lockPath, { force: true });
        else if (attempt > 200)
          throw new Error(`the lease file ${this.leasePath} stays locked by another process`);
        else await new Promise((resolve) => setTimeout(resolve, 10));
      }
    }
    try {
      return await work();
    } finally {
      await rm(lockPath, { force: true });
    }
  }

  async acquireLease(owner: string, nowMs: number, ttlMs: number): Promise<Lease | undefined> {
    const lease = await this.#locked(async () => {
      const file = await this.#leaseFile();
      if (file.lease && file.lease.expiresAt > nowMs && file.lease.owner !== owner) return undefined;
      const generation = Math.max(file.lastGeneration + 1, nowMs);
      const taken = { owner, generation, expiresAt: nowMs + ttlMs };
      await writeAtomically(this.leasePath, JSON.stringify({ lease: taken, lastGeneration: generation }));
      return taken;
    });
    // Start each cycle from what is on disk.
    this.#state = undefined;
    return lease;
  }

  async assertLease(lease: Lease, nowMs: number): Promise<void> {
    const held = (await this.#leaseFile()).lease;
    if (
      !held ||
      held.owner !== lease.owner ||
      held.generation !== lease.generation ||
      held.expiresAt <= nowMs
    ) {
      throw new LeaseLostError(`lease ${lease.generation} is no longer held by ${lease.owner}`);
    }
  }

  async releaseLease(lease: Lease): Promise<void> {
    const file = await this.#leaseFile();
    if (file.lease?.owner === lease.owner && file.lease.generation === lease.generation) {
      await writeAtomically(
        this.leasePath,
        JSON.stringify({ lease: null, lastGeneration: file.lastGeneration }),
      );
    }
  }

  async getCheckpoint(): Promise<Checkpoint | undefined> {
    return structuredClone((await this.#load()).checkpoint ?? undefined);
  }

  async putCheckpoint(checkpoint: Checkpoint): Promise<void> {
    (await this.#load()).checkpoint = structuredClone(checkpoint);
    await this.#save();
  }

  async getSnapshots(orderIds: number[]): Promise<Map<number, StoredSnapshot>> {
    const state = await this.#load();
    const found = new Map<number, StoredSnapshot>();
    for (const id of orderIds) {
      const item = state.snapshots[String(id)];
      if (item) found.set(id, structuredClone(item));
    }
    return found;
  }

  async *listSnapshotIds(): AsyncIterable<number[]> {
    yield Object.keys((await this.#load()).snapshots).map(Number);
  }

  async writeSnapshots(writes: SnapshotWrite[], options: { replay: boolean }): Promise<void> {
    const state = await this.#load();
    for (const write of writes) {
      const key = String(write.orderId);
      const rev = state.snapshots[key]?.rev ?? 0;
      if (rev !== write.expectedRev) {
        if (options.replay && rev > write.expectedRev) continue;
        throw new ConflictError(
          `snapshot of order ${write.orderId} is at version ${rev}, expected ${write.expectedRev}`,
        );
      }
      state.snapshots[key] = { rev: rev + 1, snapshot: structuredClone(write.snapshot) };
    }
    await this.#save();
  }

  async readJournal(): Promise<JournalEntry[]> {
    return structuredClone((await this.#load()).journal);
  }

  async writeJournal(entry: JournalEntry): Promise<void> {
    (await this.#load()).journal.push(structuredClone(entry));
    await this.#save();
  }

  async deleteJournal(entry: Pick<JournalEntry, 'generation' | 'part'>): Promise<void> {
    const state = await this.#load();
    state.journal = state.journal.filter((e) => e.generation !== entry.generation || e.part !== entry.part);
    await this.#save();
  }
}
