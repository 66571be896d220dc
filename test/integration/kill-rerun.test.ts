import { spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LocalEventBridge } from '../../local-aws/eventbridge-local.js';
import { startLocalEventBridge } from '../../local-aws/eventbridge-local.js';
import { vendorExampleOrders } from '../../simulator/fixtures.js';
import { generateOrders } from '../../simulator/generator.js';
import type { RunningSimulator } from '../../simulator/server.js';
import { startSimulator } from '../../simulator/server.js';
import { checkEvents, checkLedgerCovered } from '../../soak/invariants.js';
import { freshTable, receivedEvents } from '../helpers/aws.js';
import { cli } from '../helpers/cli.js';
import { tempStatePath } from '../helpers/harness.js';

let bus: LocalEventBridge;
beforeAll(async () => {
  bus = await startLocalEventBridge();
});
afterAll(async () => {
  await bus.close();
});

const ROUNDS = 20;
const LOCKS = mkdtempSync(join(tmpdir(), 'uphance-notifier-locks-'));

/**
 * Starts the command line under a shell in a process group of its own (as `npm run poll` or a service
 * manager would run it: the cycle's process is not the one the caller started) and, once `arm` says so,
 * kills it with SIGKILL: on even rounds the cycle's process alone, whose parent lives on without reaping
 * it (a zombie, that signal 0 still finds), on odd rounds the whole group (processes still exiting).
 * Resolves when the kill was sent, not when the processes are gone: the rerun must take over at once.
 */
const killed = (
  args: string[],
  env: Record<string, string>,
  round: number,
  arm: (kill: () => void) => void,
): Promise<() => void> =>
  new Promise((resolve, reject) => {
    const group = spawn(
      'sh',
      ['-c', '"$NODE" bin/uphance-notifier.mjs "$@" & echo $!; exec sleep 600', 'sh', ...args],
      {
        detached: true,
        stdio: ['ignore', 'pipe', 'ignore'],
        env: {
          PATH: process.env.PATH ?? '',
          HOME: process.env.HOME ?? '/tmp',
          NODE: process.execPath,
          AWS_REGION: 'us-east-1',
          AWS_ACCESS_KEY_ID: 'local',
          AWS_SECRET_ACCESS_KEY: 'local',
          ...env,
        },
      },
    );
    const cleanUp = () => {
      try {
        process.kill(-(group.pid as number), 'SIGKILL');
      } catch {}
    };
    let cyclePid: number | undefined;
    group.stdout?.once('data', (d) => {
      cyclePid = Number(String(d).trim());
    });
    let done = false;
    arm(() => {
      if (done) return;
      done = true;
      if (round % 2 === 0 && cyclePid) process.kill(cyclePid, 'SIGKILL');
      else cleanUp();
      resolve(cleanUp);
    });
    group.on('exit', () => {
      if (!done) reject(new Error('the run ended before it was killed'));
    });
  });

describe('killed, then run again at once, 20 rounds', { timeout: 600_000 }, () => {
  it.each(['file', 'dynamodb'] as const)(
    '%s state: every rerun takes over and delivers what the killed run had not',
    async (kind) => {
      const sim: RunningSimulator = await startSimulator({
        orders: [...vendorExampleOrders(), ...generateOrders({ count: 60, seed: 4, watchedShare: 0.9 })],
      });
      try {
        const table = kind === 'dynamodb' ? await freshTable() : undefined;
        const state = table ? ['--table', table.tableName] : ['--state', tempStatePath()];
        const env = {
          UPHANCE_API_URL: sim.url,
          UPHANCE_TOKEN: 'sim-token',
          // The killed run and its rerun share the host's leases on the credentials, as on one machine.
          UPHANCE_NOTIFIER_LOCK_DIR: LOCKS,
          AWS_ENDPOINT_URL_EVENTBRIDGE: bus.url,
          ...(table ? { AWS_ENDPOINT_URL_DYNAMODB: table.endpoint } : {}),
        };
        const args = ['poll', '--once', ...state, '--event-bus', 'orders-bus'];
        expect((await cli(args, env)).code).toBe(0);
        const before = bus.events.length;
        const from = sim.state.ledger.length;
        const open = [...sim.state.orders.values()].filter((o) =>
          ['DRAFT', 'CONFIRMED'].includes(o.raw.status),
        );
        let tookOver = 0;
        for (let round = 0; round < ROUNDS; round++) {
          // Enough changes for several PutEvents calls: the run is killed at its first.
          for (const order of open.slice(0, 25))
            sim.state.setDueDate(order.raw.id, `2027-05-${10 + (round % 18)}`);
          const cleanUp = await killed(args, env, round, (kill) => {
            bus.onCall = kill;
          });
          bus.onCall = undefined;
          const rerun = await cli(args, env);
          cleanUp();
          expect(rerun.stderr).not.toMatch(/another runner is polling this state/);
          expect(rerun.code).toBe(0);
          if (/taking over the lease of a runner of this host that no longer runs/.test(rerun.stderr))
            tookOver++;
        }
        expect(tookOver).toBe(ROUNDS);
        const received = receivedEvents(bus).slice(before);
        expect(checkLedgerCovered(sim.state.ledger, from, received)).toEqual([]);
        expect(checkEvents(received).violations).toEqual([]);
      } finally {
        bus.onCall = undefined;
        await sim.close();
      }
    },
  );
});
