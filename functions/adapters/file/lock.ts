import { randomBytes } from 'node:crypto';
import { mkdir, open, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { dirname } from 'node:path';
import { abandonedOnThisHost, thisProcess } from '../../shared/process.js';
import { sleep } from '../../shared/timing.js';

/** Writes a file whole or not at all: a temporary file beside it, then a rename. */
export const writeAtomically = async (path: string, text: string): Promise<void> => {
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
  start?: string;
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
 * An exclusive lock file beside a lease (`PATH.lock`, created with O_EXCL). The lock names its holder
 * (host, pid, start time and a token): it is broken only when that process no longer runs on this host
 * (never by age alone, which would let a paused process write over a newer one), and removed only by the
 * holder whose token it still carries.
 */
export class FileLock {
  readonly path: string;

  /** `leasePath`: the file the lock guards (named in errors); the lock is `leasePath.lock`. */
  constructor(private readonly leasePath: string) {
    this.path = `${leasePath}.lock`;
  }

  /** Runs `work` under the exclusive lock, so that two processes never interleave their read-modify-writes. */
  async run<T>(work: () => Promise<T>): Promise<T> {
    const lockPath = this.path;
    await mkdir(dirname(lockPath), { recursive: true });
    const token = randomBytes(8).toString('hex');
    const me = thisProcess();
    const mine: LockFile = { token, host: me.host, pid: me.pid, ...(me.start ? { start: me.start } : {}) };
    for (let attempt = 0; ; attempt++) {
      try {
        const handle = await open(lockPath, 'wx');
        await handle.writeFile(JSON.stringify(mine));
        await handle.close();
        break;
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
        const held = await readLock(lockPath);
        if (await this.#abandonedLock(lockPath, held)) await this.#break(lockPath, held);
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
  async #abandonedLock(lockPath: string, held: LockFile | undefined): Promise<boolean> {
    const age = await stat(lockPath).then(
      (s) => Date.now() - s.mtimeMs,
      () => 0,
    );
    if (!held) return age > STALE_LOCK_MS;
    if (held.host === hostname()) return abandonedOnThisHost()(held);
    return age > FOREIGN_LOCK_MS;
  }

  /**
   * Removes an abandoned lock, and only that one. Between judging it and removing it another process may
   * have broken it and made its own: so the removal happens under a second exclusive file (`.break`), and
   * only while the lock still carries the token judged abandoned. A breaker that died leaves a `.break`
   * file that is itself broken once it is old (breaking takes a moment).
   */
  async #break(lockPath: string, judged: LockFile | undefined): Promise<void> {
    const breaker = `${lockPath}.break`;
    try {
      const handle = await open(breaker, 'wx');
      await handle.close();
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      const age = await stat(breaker).then(
        (s) => Date.now() - s.mtimeMs,
        () => 0,
      );
      if (age > STALE_LOCK_MS) await rm(breaker, { force: true });
      return;
    }
    try {
      const now = await readLock(lockPath);
      const same = judged ? now?.token === judged.token : now === undefined;
      if (same && (await this.#abandonedLock(lockPath, now))) await rm(lockPath, { force: true });
    } finally {
      await rm(breaker, { force: true });
    }
  }
}
