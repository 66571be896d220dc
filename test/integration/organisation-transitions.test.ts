import { readFileSync, writeFileSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { DynamoStateStore } from '../../functions/adapters/dynamodb/state-store.js';
import type { NotifierEvent } from '../../functions/core/events/catalogue.js';
import type { RunningSimulator } from '../../simulator/server.js';
import { freshTable } from '../helpers/aws.js';
import { cli } from '../helpers/cli.js';
import { tempStatePath } from '../helpers/harness.js';
import { eventOfLine, ORG_A, ORG_B, ordersOf, twoOrganisations } from '../helpers/organisations.js';

let sim: RunningSimulator | undefined;
afterEach(async () => {
  await sim?.close();
  sim = undefined;
});

type Kind = 'file' | 'dynamodb';

/** A place for the state (a file, or a table) and the command line run on it with some organisations. */
const setup = async (kind: Kind) => {
  sim = await twoOrganisations(6);
  const server = sim;
  const path = tempStatePath();
  const table = kind === 'dynamodb' ? await freshTable() : undefined;
  const poll = async (organisations: string | undefined) => {
    const run = await cli(
      ['poll', '--once', '--json', ...(table ? ['--table', table.tableName] : ['--state', path])],
      {
        UPHANCE_API_URL: server.url,
        UPHANCE_TOKEN: 'sim-token',
        ...(organisations === undefined ? {} : { UPHANCE_ORGANISATION_ID: organisations }),
        ...(table ? { AWS_ENDPOINT_URL_DYNAMODB: table.endpoint } : {}),
      },
    );
    const lines = run.stdout.trim() === '' ? [] : run.stdout.trim().split('\n');
    return { ...run, events: lines.map(eventOfLine) };
  };
  /** Every order of an organisation gets a new due date: one OrderDueDateChanged each. */
  let round = 0;
  const change = (organisationId: number) => {
    round++;
    for (const id of ordersOf(server, organisationId)) server.state.setDueDate(id, `2027-03-${10 + round}`);
  };
  /** Removes the record of its organisation from the state (as a state written by an earlier version). */
  const forgetOrganisation = async (partition: string) => {
    if (!table) {
      const state = JSON.parse(readFileSync(path, 'utf8'));
      delete state.checkpoint.organisationId;
      writeFileSync(path, JSON.stringify(state));
      return;
    }
    const store = new DynamoStateStore({
      client: table.client,
      tableName: table.tableName,
      organisation: partition,
    });
    const got = await store.acquireLease({ owner: 'test', nowMs: Date.now(), ttlMs: 60_000 });
    if (got.kind !== 'acquired') throw new Error('lease');
    const checkpoint = await store.getCheckpoint();
    if (!checkpoint) throw new Error('no checkpoint');
    delete checkpoint.organisationId;
    await store.applyWrites({ lease: got.lease }, { writes: [], checkpoint, commit: null, replay: false });
    await store.releaseLease(got.lease);
  };
  return { server, poll, change, forgetOrganisation };
};

/** One OrderDueDateChanged per order of the organisation, each with the sequence given. */
const dueDateChanges = (
  events: NotifierEvent[],
  server: RunningSimulator,
  organisationId: number,
  sequence: number,
) => {
  const own = ordersOf(server, organisationId).sort();
  expect(events.map((e) => e.detailType)).toEqual(own.map(() => 'OrderDueDateChanged'));
  expect(events.map((e) => e.detail.order.id).sort()).toEqual(own);
  expect(events.map((e) => e.detail.sequence)).toEqual(own.map(() => sequence));
};

describe.each<Kind>(['file', 'dynamodb'])(
  'changing the organisations configured keeps each state (%s)',
  (kind) => {
    it('naming the organisation that was polled unnamed: no change lost, sequences go on', async () => {
      const { server, poll, change } = await setup(kind);
      expect(await poll(undefined)).toMatchObject({ code: 0, events: [] });
      change(ORG_A);
      dueDateChanges((await poll(undefined)).events, server, ORG_A, 1);
      change(ORG_A);
      const named = await poll(String(ORG_A));
      expect(named.code).toBe(0);
      dueDateChanges(named.events, server, ORG_A, 2);
      for (const event of named.events) expect(event.detail.organisationId).toBe(ORG_A);
    });

    it('adding a second organisation, then removing the first: each goes on where it was', async () => {
      const { server, poll, change } = await setup(kind);
      expect((await poll(String(ORG_A))).code).toBe(0);
      change(ORG_A);
      dueDateChanges((await poll(String(ORG_A))).events, server, ORG_A, 1);
      change(ORG_A);
      const both = await poll(`${ORG_A},${ORG_B}`);
      expect(both.code).toBe(0);
      // A goes on; B records its baseline silently.
      dueDateChanges(both.events, server, ORG_A, 2);
      change(ORG_A);
      change(ORG_B);
      const again = await poll(`${ORG_A},${ORG_B}`);
      dueDateChanges(
        again.events.filter((e) => e.detail.organisationId === ORG_A),
        server,
        ORG_A,
        3,
      );
      dueDateChanges(
        again.events.filter((e) => e.detail.organisationId === ORG_B),
        server,
        ORG_B,
        1,
      );
      change(ORG_B);
      const onlyB = await poll(String(ORG_B));
      expect(onlyB.code).toBe(0);
      dueDateChanges(onlyB.events, server, ORG_B, 2);
      change(ORG_A);
      dueDateChanges((await poll(String(ORG_A))).events, server, ORG_A, 4);
    });

    it('unnamed, after the credentials’ organisation changed: a configuration error naming both, nothing diffed', async () => {
      const { server, poll, change } = await setup(kind);
      expect((await poll(undefined)).code).toBe(0);
      // Another runner on the same token selects B, and the unnamed state is A's.
      await fetch(`${server.url}/organisations/set_current_org`, {
        method: 'POST',
        headers: { authorization: 'Bearer sim-token', 'content-type': 'application/json' },
        body: JSON.stringify({ organizationId: ORG_B }),
      });
      change(ORG_B);
      const run = await poll(undefined);
      expect(run.code).toBe(2);
      expect(run.events).toEqual([]);
      expect(run.stderr).toMatch(
        /belongs to organisation 35802, but the credentials now answer for organisation 35803/,
      );
    });

    it('a state from before organisations were recorded goes to the organisation whose orders it holds', async () => {
      const { server, poll, change, forgetOrganisation } = await setup(kind);
      expect((await poll(undefined)).code).toBe(0);
      await forgetOrganisation('default');
      change(ORG_A);
      const wrong = await poll(String(ORG_B));
      if (kind === 'file') {
        // The state file is B's only place, and it holds A's orders: B cannot have it.
        expect(wrong.code).toBe(2);
        expect(wrong.stderr).toMatch(
          /belongs to another organisation .*none of its orders .* is in organisation 35803/,
        );
      } else {
        // The table has room for B: its own partition, a silent baseline; A's state stays for A.
        expect(wrong).toMatchObject({ code: 0, events: [] });
      }
      const named = await poll(String(ORG_A));
      expect(named.code).toBe(0);
      dueDateChanges(named.events, server, ORG_A, 1);
    });

    it('upgrading and adding an organisation at once: the unrecorded state goes on for its own', async () => {
      const { server, poll, change, forgetOrganisation } = await setup(kind);
      expect((await poll(undefined)).code).toBe(0);
      change(ORG_A);
      dueDateChanges((await poll(undefined)).events, server, ORG_A, 1);
      await forgetOrganisation('default');
      change(ORG_A);
      const both = await poll(`${ORG_A},${ORG_B}`);
      expect(both.code).toBe(0);
      // A goes on where it was (sequence 2); B records its baseline silently.
      dueDateChanges(both.events, server, ORG_A, 2);
    });

    it('no longer named: the organisation the credentials answer for goes on in its own state', async () => {
      const { server, poll, change } = await setup(kind);
      expect((await poll(`${ORG_A},${ORG_B}`)).code).toBe(0);
      change(ORG_A);
      dueDateChanges((await poll(`${ORG_A},${ORG_B}`)).events, server, ORG_A, 1);
      change(ORG_A);
      // Unnamed, the token's organisation is A's again (the simulator's first, once B was selected last).
      await fetch(`${server.url}/organisations/set_current_org`, {
        method: 'POST',
        headers: { authorization: 'Bearer sim-token', 'content-type': 'application/json' },
        body: JSON.stringify({ organizationId: ORG_A }),
      });
      const unnamed = await poll(undefined);
      expect(unnamed.code).toBe(0);
      dueDateChanges(unnamed.events, server, ORG_A, 2);
    });
  },
);

describe('a state file that belongs to another organisation', () => {
  it('is a configuration error naming both (exit 2), never a silent baseline', async () => {
    const { poll, change } = await setup('file');
    expect((await poll(String(ORG_A))).code).toBe(0);
    change(ORG_B);
    const run = await poll(String(ORG_B));
    expect(run.code).toBe(2);
    expect(run.events).toEqual([]);
    expect(run.stderr).toMatch(/belongs to organisation 35802, but organisation 35803 is configured/);
  });
});
