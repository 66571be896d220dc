import type { ChildProcess } from 'node:child_process';
import { spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** The host-wide leases of the command lines a test file runs: its own, never the user's. */
const LOCKS = mkdtempSync(join(tmpdir(), 'uphance-notifier-locks-'));

export interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/**
 * Runs the installed command line, as a user would, with a clean environment (local AWS credentials
 * only); `started` gets the process, to signal or kill it.
 */
export const cli = (
  args: string[],
  env: Record<string, string> = {},
  started?: (child: ChildProcess) => void,
): Promise<Run> =>
  new Promise((resolve) => {
    const child = spawn(process.execPath, ['bin/uphance-notifier.mjs', ...args], {
      env: {
        PATH: process.env.PATH ?? '',
        HOME: process.env.HOME ?? '/tmp',
        AWS_REGION: 'us-east-1',
        AWS_ACCESS_KEY_ID: 'local',
        AWS_SECRET_ACCESS_KEY: 'local',
        UPHANCE_NOTIFIER_LOCK_DIR: LOCKS,
        ...env,
      },
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => {
      stdout += String(d);
    });
    child.stderr.on('data', (d) => {
      stderr += String(d);
    });
    child.on('close', (code) => resolve({ code, stdout, stderr }));
    started?.(child);
  });
