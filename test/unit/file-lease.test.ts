import { spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { FileLease } from '../../functions/adapters/file/lease.js';

/** A pid that no process has any more (a child that ran and was reaped). */
const deadPid = async (): Promise<number> => {
  const child = spawn('true');
  await new Promise((resolve) => child.on('close', resolve));
  return child.pid as number;
};

describe('the lease file’s lock', () => {
  it('a lock left by a dead process is broken once, never under another process that just took it', async () => {
    const dead = await deadPid();
    let overlaps = 0;
    for (let round = 0; round < 200; round++) {
      const path = join(mkdtempSync(join(tmpdir(), 'uphance-notifier-lock-')), 'x.lease');
      writeFileSync(`${path}.lock`, JSON.stringify({ token: 'dead', host: hostname(), pid: dead }));
      const lease = new FileLease(path);
      let inside = 0;
      // Four holders race for the lock the dead process left; each stays inside across a few awaits.
      await Promise.all(
        Array.from({ length: 4 }, () =>
          lease.locked(async () => {
            inside++;
            if (inside > 1) overlaps++;
            for (let i = 0; i < 3; i++) await Promise.resolve();
            await new Promise((resolve) => setImmediate(resolve));
            inside--;
          }),
        ),
      );
    }
    expect(overlaps).toBe(0);
  });
});
