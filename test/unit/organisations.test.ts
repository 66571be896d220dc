import { existsSync } from 'node:fs';
import { dirname } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { PollFlags } from '../../functions/cli/poll.js';
import { runPoll } from '../../functions/cli/poll.js';
import { silentLogger } from '../../functions/cycle/ports.js';
import { credentialsForOrganisation } from '../../functions/fanout/credentials.js';
import { ConfigError, uphanceSettings } from '../../functions/runtime/config.js';
import { organisationFile } from '../../functions/runtime/state-location.js';
import { generateOrders } from '../../simulator/generator.js';
import type { RunningSimulator } from '../../simulator/server.js';
import { startSimulator } from '../../simulator/server.js';
import { tempStatePath } from '../helpers/harness.js';

let sim: RunningSimulator | undefined;
afterEach(async () => {
  await sim?.close();
  sim = undefined;
});

/** One simulator serving several organisations: each one's orders, keyed by the organisation selected. */
const serve = async (organisationIds: number[], perOrganisation: number) => {
  sim = await startSimulator({
    organisations: organisationIds.map((id) => ({ id, name: `Org ${id}` })),
    orders: organisationIds.flatMap((organisationId, i) =>
      generateOrders({
        count: perOrganisation,
        seed: 100 + i,
        firstId: 40_000 + i * 1_000,
        firstNumber: 5_000 + i * 100,
        watchedShare: 1,
        organisationId,
      }),
    ),
  });
  return sim;
};

const poll = async (server: RunningSimulator, organisations: string, statePath: string) => {
  const lines: string[] = [];
  const errors: string[] = [];
  const code = await runPoll({ once: true, state: statePath, json: true } satisfies PollFlags, {
    env: {
      UPHANCE_API_URL: server.url,
      UPHANCE_TOKEN: 'sim-token',
      UPHANCE_ORGANISATION_ID: organisations,
      UPHANCE_NOTIFIER_LOCK_DIR: dirname(statePath),
    },
    stdout: (line) => lines.push(line),
    logger: { ...silentLogger, error: (message) => errors.push(message) },
    isTty: false,
  });
  const events = lines.map(
    (line) =>
      JSON.parse(line) as {
        'detail-type': string;
        detail: Record<string, unknown> & { order: { id: number; number: string } };
      },
  );
  return { code, events, errors };
};

const orgOf = (server: RunningSimulator, orderId: number) =>
  server.state.get(orderId).raw.organisation_id as number;

// Whole runs of the command line (file stores, a real simulator): generous time on a loaded machine.
describe('several organisations', { timeout: 120_000 }, () => {
  it('polls each in turn, with its own state and baseline; every event carries its organisationId', async () => {
    const server = await serve([35802, 35803], 4);
    const path = tempStatePath();
    const baseline = await poll(server, '35802,35803', path);
    expect(baseline).toMatchObject({ code: 0, events: [] });
    expect(existsSync(path.replace(/\.json$/, '.35802.json'))).toBe(true);
    expect(existsSync(path.replace(/\.json$/, '.35803.json'))).toBe(true);
    server.state.setDueDate(40_000, '2027-04-01');
    server.state.setDueDate(41_000, '2027-04-02');
    const { code, events } = await poll(server, '35802,35803', path);
    expect(code).toBe(0);
    expect(events.map((e) => [e.detail.order.id, e.detail.organisationId])).toEqual([
      [40_000, 35802],
      [41_000, 35803],
    ]);
    for (const event of events)
      expect(event.detail.organisationId).toBe(orgOf(server, event.detail.order.id));
  });

  it('selects the organisation before its requests, every cycle, never two at once on the shared token', async () => {
    const server = await serve([35802, 35803], 2);
    const path = tempStatePath();
    await poll(server, '35802,35803', path);
    server.resetCounts();
    await poll(server, '35802,35803', path);
    const sequence = server.requests.map((r) => r.endpoint);
    const selections = sequence.filter((e) => e === 'POST /organisations/set_current_org');
    expect(selections).toHaveLength(2);
    // Each organisation's reads follow its own selection: the first request of each run selects.
    expect(sequence[0]).toBe('POST /organisations/set_current_org');
    const second = sequence.indexOf('POST /organisations/set_current_org', 1);
    expect(second).toBeGreaterThan(1);
    expect(sequence.slice(1, second).every((e) => e === 'GET /production_orders')).toBe(true);
  });

  it('one failing organisation never stops the others (and the run says which failed)', async () => {
    const server = await serve([35802, 35803], 3);
    const path = tempStatePath();
    // 35899 is not one of the token's organisations: set_current_org refuses it.
    await poll(server, '35802,35899,35803', path);
    server.state.setDueDate(41_001, '2027-05-05');
    const { code, events, errors } = await poll(server, '35802,35899,35803', path);
    expect(code).not.toBe(0);
    expect(errors.some((e) => e.startsWith('organisation 35899:'))).toBe(true);
    expect(events.map((e) => [e.detail.order.id, e.detail.organisationId])).toEqual([[41_001, 35803]]);
  });

  it('fifty organisations poll correctly from one run', async () => {
    const ids = Array.from({ length: 50 }, (_, i) => 60_000 + i);
    const server = await serve(ids, 3);
    const path = tempStatePath();
    const baseline = await poll(server, ids.join(','), path);
    expect(baseline).toMatchObject({ code: 0, events: [] });
    // One change in every organisation's first order.
    for (const [i] of ids.entries()) server.state.setDueDate(40_000 + i * 1_000, '2027-06-01');
    const { code, events } = await poll(server, ids.join(','), path);
    expect(code).toBe(0);
    expect(events).toHaveLength(50);
    expect(events.map((e) => e.detail.organisationId)).toEqual(ids);
    for (const event of events) {
      expect(event['detail-type']).toBe('OrderDueDateChanged');
      expect(event.detail.organisationId).toBe(orgOf(server, event.detail.order.id));
    }
    const quiet = await poll(server, ids.join(','), path);
    expect(quiet.events).toEqual([]);
  });
});

describe('organisation settings', () => {
  it('reads a list of organisations and names a bad one', () => {
    expect(uphanceSettings({ UPHANCE_ORGANISATION_ID: '35802, 35803' })).toMatchObject({
      organisationId: 35802,
      organisationIds: [35802, 35803],
    });
    expect(uphanceSettings({}).organisationIds).toEqual([]);
    expect(() => uphanceSettings({ UPHANCE_ORGANISATION_ID: '35802,acme' })).toThrow(
      /UPHANCE_ORGANISATION_ID/,
    );
    expect(() => uphanceSettings({ UPHANCE_ORGANISATION_ID: '1,1' })).toThrow(/twice/);
  });

  it('takes shared credentials or an organisation’s own from the secret, never echoing a value', () => {
    const secret = JSON.stringify({
      token: 'shared-TOKEN',
      organisations: { '35803': { token: 'own-TOKEN' } },
    });
    expect(credentialsForOrganisation(secret, 'S', 35802)).toEqual({ kind: 'token', token: 'shared-TOKEN' });
    expect(credentialsForOrganisation(secret, 'S', 35803)).toEqual({ kind: 'token', token: 'own-TOKEN' });
    const onlyOwn = { organisations: { '35803': { email: 'a@b.c', password: 'pw-SECRET' } } };
    expect(credentialsForOrganisation(onlyOwn, 'S', 35803)).toMatchObject({ kind: 'password' });
    let error: unknown;
    try {
      credentialsForOrganisation(onlyOwn, 'S', 35802);
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect(String((error as Error).message)).toMatch(/organisation 35802/);
    expect(String((error as Error).message)).not.toContain('pw-SECRET');
  });

  it('keeps one state file per organisation when there are several', () => {
    expect(organisationFile('/s/state.json', 35802)).toBe('/s/state.35802.json');
    expect(organisationFile('/s/state', 35802)).toBe('/s/state.35802');
  });
});
