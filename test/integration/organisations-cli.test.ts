import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { NotifierEvent } from '../../functions/core/events/catalogue.js';
import type { RunningSimulator } from '../../simulator/server.js';
import { checkEvents, checkLedgerCovered } from '../../soak/invariants.js';
import { freshTable } from '../helpers/aws.js';
import { cli } from '../helpers/cli.js';
import { tempStatePath } from '../helpers/harness.js';
import {
  changeEveryOrder,
  eventOfLine,
  ledgerOf,
  ORG_A,
  ORG_B,
  ordersOf,
  twoOrganisations,
} from '../helpers/organisations.js';

let sim: RunningSimulator | undefined;
afterEach(async () => {
  await sim?.close();
  sim = undefined;
});

const ROUNDS = 5;

// Two real command lines for two organisations on one token, started together, round after round.
describe('two command lines, two organisations, one token, at once', { timeout: 240_000 }, () => {
  it.each(['--state', '--table'] as const)(
    '%s: each sees only its own orders, and every change',
    async (where) => {
      // A little latency, so that the two runs' requests overlap whenever they can.
      sim = await twoOrganisations(60, { perPage: 10, latencyMs: 5 });
      const server = sim;
      const locks = mkdtempSync(join(tmpdir(), 'uphance-notifier-locks-'));
      const table = where === '--table' ? await freshTable() : undefined;
      const env = (organisationId: number) => ({
        UPHANCE_API_URL: server.url,
        UPHANCE_TOKEN: 'sim-token',
        UPHANCE_ORGANISATION_ID: String(organisationId),
        UPHANCE_NOTIFIER_LOCK_DIR: locks,
        ...(table ? { AWS_ENDPOINT_URL_DYNAMODB: table.endpoint } : {}),
      });
      const stateArgs = (organisationId: number) =>
        table
          ? ['--table', table.tableName]
          : ['--state', tempStatePath().replace('state.json', `${organisationId}.json`)];
      const args: Record<number, string[]> = { [ORG_A]: stateArgs(ORG_A), [ORG_B]: stateArgs(ORG_B) };
      const events: Record<number, NotifierEvent[]> = { [ORG_A]: [], [ORG_B]: [] };
      const bothAtOnce = async () => {
        const runs = await Promise.all(
          [ORG_A, ORG_B].map((id) => cli(['poll', '--once', '--json', ...(args[id] ?? [])], env(id))),
        );
        for (const [i, run] of runs.entries()) {
          const id = [ORG_A, ORG_B][i] as number;
          expect(run.stderr).not.toMatch(/error|failed/i);
          // Taking turns, no run ever gets a page answered for the other organisation (the second wall
          // never has to act).
          expect(run.stderr).not.toMatch(/answered for another organisation/);
          expect(run.code).toBe(0);
          const lines = run.stdout.trim() === '' ? [] : run.stdout.trim().split('\n');
          events[id]?.push(...lines.map(eventOfLine));
        }
      };
      await bothAtOnce();
      expect(events[ORG_A]).toEqual([]);
      expect(events[ORG_B]).toEqual([]);
      const from = server.state.ledger.length;
      for (let round = 1; round <= ROUNDS; round++) {
        changeEveryOrder(server, round);
        await bothAtOnce();
      }
      for (const id of [ORG_A, ORG_B]) {
        const own = new Set(ordersOf(server, id));
        const mine = events[id] ?? [];
        expect(mine.length).toBeGreaterThanOrEqual(own.size * ROUNDS);
        expect(mine.filter((e) => !own.has(e.detail.order.id))).toEqual([]);
        expect(mine.filter((e) => e.detail.organisationId !== id)).toEqual([]);
        expect(mine.filter((e) => e.detailType === 'OrderRemoved')).toEqual([]);
        expect(checkLedgerCovered(ledgerOf(server, id, from), 0, mine)).toEqual([]);
        expect(checkEvents(mine).violations).toEqual([]);
      }
    },
  );
});
