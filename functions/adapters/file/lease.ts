import { readFile } from 'node:fs/promises';
import type { LeaseStore } from '../../cycle/ports.js';
import type { Lease, LeaseClaim, LeaseOutcome } from '../../cycle/records.js';
import { FileLock, writeAtomically } from './lock.js';

interface LeaseFile {
  lease: Lease | null;
  /** Survives the lease's release so that fencing tokens keep increasing. */
  lastGeneration: number;
}

/**
 * A lease in a file (`PATH`): the holder, its expiry and a generation that every acquisition increments
 * and that survives releases. Every change is made under the lock file beside it (`PATH.lock`, lock.ts).
 */
export class FileLease implements LeaseStore {
  readonly #lock: FileLock;

  constructor(readonly path: string) {
    this.#lock = new FileLock(path);
  }

  async read(): Promise<LeaseFile> {
    try {
      return JSON.parse(await readFile(this.path, 'utf8')) as LeaseFile;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return { lease: null, lastGeneration: 0 };
      throw new Error(`cannot read the lease file ${this.path}: ${(error as Error).message}`);
    }
  }

  /** Runs `work` under the exclusive lock, so that two processes never interleave their read-modify-writes. */
  locked<T>(work: () => Promise<T>): Promise<T> {
    return this.#lock.run(work);
  }

  async #take(claim: LeaseClaim, mayTake: (file: LeaseFile) => boolean): Promise<LeaseOutcome> {
    return this.locked(async (): Promise<LeaseOutcome> => {
      const file = await this.read();
      if (file.lease && !mayTake(file)) return { kind: 'held', holder: file.lease };
      const generation = Math.max(file.lastGeneration, file.lease?.generation ?? 0) + 1;
      const lease: Lease = {
        owner: claim.owner,
        ...(claim.host === undefined ? {} : { host: claim.host }),
        ...(claim.pid === undefined ? {} : { pid: claim.pid }),
        ...(claim.start === undefined ? {} : { start: claim.start }),
        ...(claim.scope === undefined ? {} : { scope: claim.scope }),
        generation,
        expiresAt: claim.nowMs + claim.ttlMs,
      };
      await writeAtomically(this.path, JSON.stringify({ lease, lastGeneration: generation }));
      return { kind: 'acquired', lease };
    });
  }

  acquire(claim: LeaseClaim): Promise<LeaseOutcome> {
    return this.#take(
      claim,
      (file) => !file.lease || file.lease.expiresAt <= claim.nowMs || file.lease.owner === claim.owner,
    );
  }

  takeOver(claim: LeaseClaim, holder: Lease): Promise<LeaseOutcome> {
    return this.#take(
      claim,
      (file) =>
        !file.lease ||
        file.lease.expiresAt <= claim.nowMs ||
        (file.lease.owner === holder.owner && file.lease.generation === holder.generation),
    );
  }

  async release(lease: Lease): Promise<void> {
    await this.locked(async () => {
      const file = await this.read();
      if (file.lease?.owner === lease.owner && file.lease.generation === lease.generation) {
        await writeAtomically(
          this.path,
          JSON.stringify({ lease: null, lastGeneration: Math.max(file.lastGeneration, lease.generation) }),
        );
      }
    });
  }

  /** Whether `lease` is still the current one (checked under the lock by fenced writes). */
  async holds(lease: Lease): Promise<{ ok: true } | { ok: false; current: Lease | null }> {
    const current = (await this.read()).lease;
    if (current && current.owner === lease.owner && current.generation === lease.generation)
      return { ok: true };
    return { ok: false, current };
  }
}
