import { afterAll, beforeAll, expect, it, vi } from 'vitest';
import { DynamoDigestMarker } from '../../functions/adapters/dynamodb/digest-marker.js';
import { DynamoStateStore } from '../../functions/adapters/dynamodb/state-store.js';
import { DynamoRegistry } from '../../functions/adapters/dynamodb-registry.js';
import type { OrderRef } from '../../functions/core/order.js';
import type { Snapshot } from '../../functions/core/snapshot.js';
import type { LocalSecrets } from '../../local-aws/secrets-local.js';
import { startLocalSecrets } from '../../local-aws/secrets-local.js';
import { freshTable } from '../helpers/aws.js';
import { ref, snap } from '../helpers/board-state.js';
import { lambdaContext, localLambdaEnv } from '../helpers/lambda.js';
import { vendorEvent } from '../helpers/orders.js';

const DAY = 86_400_000;
const HOUR = 3_600_000;
const SLACK = 'https://hooks.slack.com/services/T000/B000/SECRET';
let secrets: LocalSecrets;
const saved = { ...process.env };

beforeAll(async () => {
  secrets = await startLocalSecrets();
});
afterAll(async () => {
  process.env = saved;
  vi.restoreAllMocks();
  await secrets.close();
});

const isoDay = (ms: number) => new Date(ms).toISOString().slice(0, 10);

const snapshot = (id: number, order: Partial<OrderRef>, extra: Parameters<typeof snap>[2] = {}): Snapshot =>
  snap(ref(id, order), { '1': { Cutting: 'c', Sewing: 'p' } }, extra);

/** Writes snapshots into one organisation's partition, as a cycle would (under its lease). */
const seed = async (store: DynamoStateStore, snapshots: Snapshot[], pendingAt?: number) => {
  const outcome = await store.acquireLease({ owner: 'seed', nowMs: Date.now(), ttlMs: 60_000 });
  if (outcome.kind !== 'acquired') throw new Error('the fresh table has a lease');
  const fence = { lease: outcome.lease };
  await store.applyWrites(fence, {
    writes: snapshots.map((s) => ({ orderId: s.order.id, snapshot: s, expectedRev: 0 })),
    checkpoint: null,
    commit: null,
    replay: false,
  });
  if (pendingAt !== undefined) {
    // A commit a crash left in the journal (written, not applied): its detections are not in a snapshot yet.
    const event = vendorEvent(3);
    event.detail.detectedAt = new Date(pendingAt).toISOString();
    await store.writeJournalPart(fence, {
      generation: outcome.lease.generation,
      commit: 1,
      part: 0,
      events: [event],
      writes: [],
      checkpoint: null,
    });
  }
  await store.releaseLease(outcome.lease);
  return outcome.lease.generation;
};

const context = lambdaContext(120_000, 'digest');

it('the digest function sends one digest per organisation, each from its own partition, marker and period', async () => {
  const { client, tableName, endpoint } = await freshTable();
  const now = Date.now();
  const store = (organisation: string) =>
    new DynamoStateStore({ client, tableName, organisation, sleep: async () => {} });
  await seed(store('35802'), [
    snapshot(1101, { dueDate: isoDay(now - 3 * DAY) }),
    snapshot(1102, { deliveryStatus: 'all_received' }, { receivedSeen: now - 2 * HOUR }),
  ]);
  // Organisation 35803: a roll-up detected two hours ago, while a commit detected three hours ago is still
  // journaled: the period stops before it, so the roll-up waits for the next digest, not lost.
  const pendingSince = now - 3 * HOUR;
  await seed(
    store('35803'),
    [snapshot(1201, {}, { rolledUp: ['Cutting'], rolledUpSeen: { Cutting: now - 2 * HOUR } })],
    pendingSince,
  );
  secrets.secrets.set('slack/url', JSON.stringify({ url: SLACK }));
  process.env = {
    ...saved,
    ...localLambdaEnv({ dynamodb: endpoint, secretsManager: secrets.url }),
    TABLE_NAME: tableName,
    UPHANCE_ORGANISATION_ID: '35802,35803',
    SLACK_WEBHOOK_SECRET_ARN: 'slack/url',
    DIGEST_WHEN_EMPTY: 'false',
  };
  const posts: string[] = [];
  const realFetch = globalThis.fetch;
  vi.spyOn(globalThis, 'fetch').mockImplementation(async (input, init) => {
    if (String(input) !== SLACK) return realFetch(input, init);
    posts.push(JSON.parse(String(init?.body)).text);
    return new Response('ok', { status: 200 });
  });
  vi.spyOn(process.stdout, 'write').mockImplementation(() => true);
  vi.resetModules();
  const { handler } = await import('../../functions/handlers/digest.js');

  expect(await handler({}, context)).toEqual({ sent: true });
  // 35803 has nothing to say yet (its roll-up waits behind the journaled commit): only 35802 is sent.
  expect(posts).toHaveLength(1);
  const [first] = posts as [string];
  expect(first).toMatch(/^Uphance production digest for \d{4}-\d{2}-\d{2} \(UTC\), organisation 35802\n/);
  expect(first).toContain('Overdue (1)\n- PO 101 · Atelier Nord');
  expect(first).toContain(
    'Orders received since the last digest (1)\n- PO 102 · Atelier Nord · all received',
  );
  const marker35803 = await new DynamoDigestMarker(client, tableName, '35803').last();
  expect(marker35803?.until).toBe(new Date(pendingSince - 1).toISOString());

  // The journaled commit is applied and cleared (the next cycle's recovery): the roll-up is reported now.
  const org = store('35803');
  const outcome = await org.acquireLease({ owner: 'replay', nowMs: Date.now(), ttlMs: 60_000 });
  if (outcome.kind !== 'acquired') throw new Error('lease held');
  const journal = await org.readJournal();
  const part = journal.parts[0];
  if (!part) throw new Error('the journal part was not written');
  await org.clearJournal({ lease: outcome.lease }, part, [part.part]);
  await org.releaseLease(outcome.lease);
  posts.length = 0;
  expect(await handler({}, context)).toEqual({ sent: true });
  expect(posts).toHaveLength(2);
  expect(posts[0]).toContain('Orders received since the last digest (0)');
  expect(posts[1]).toMatch(/, organisation 35803\n/);
  expect(posts[1]).toContain('Stages completed since the last digest (1)\n- PO 201 · Atelier Nord · Cutting');
  const written = (process.stdout.write as unknown as { mock: { calls: unknown[][] } }).mock.calls.join('\n');
  expect(written).not.toContain('SECRET');
});

it('one organisation failing never stops the others; the run fails, and its retry sends only what failed', async () => {
  const { endpoint, tableName } = await freshTable();
  process.env = {
    ...process.env,
    AWS_ENDPOINT_URL_DYNAMODB: endpoint,
    TABLE_NAME: tableName,
    UPHANCE_ORGANISATION_ID: '35802,35803',
    DIGEST_WHEN_EMPTY: 'true',
  };
  const posts: string[] = [];
  let slackDown = true;
  vi.spyOn(globalThis, 'fetch').mockImplementation(async (_input, init) => {
    const text = JSON.parse(String(init?.body)).text as string;
    posts.push(text);
    return new Response('', { status: slackDown && text.includes('organisation 35802') ? 500 : 200 });
  });
  vi.resetModules();
  const { handler } = await import('../../functions/handlers/digest.js');
  const orgOf = (text: string) => text.split('\n')[0]?.replace(/.*, /, '');
  // What the schedule sends: its scheduled time, the same in the retries of one run.
  const run = { scheduledTime: '2026-11-30T07:00:00Z' };
  await expect(handler(run, context)).rejects.toThrow(
    'digest failed: organisation 35802: Slack refused the digest: HTTP 500',
  );
  expect(posts.map(orgOf)).toEqual(['organisation 35802', 'organisation 35803']);
  // The retry: 35803's digest was made by this run, so only 35802's is sent.
  slackDown = false;
  posts.length = 0;
  expect(await handler(run, context)).toEqual({ sent: true });
  expect(posts.map(orgOf)).toEqual(['organisation 35802']);
  // The next day's run sends both again.
  posts.length = 0;
  await handler({ scheduledTime: '2026-12-01T07:00:00Z' }, context);
  expect(posts.map(orgOf)).toEqual(['organisation 35802', 'organisation 35803']);
});

it('an organisation added to the registry only gets its digest; once removed, none', async () => {
  const { client, tableName, endpoint } = await freshTable();
  const now = Date.now();
  await seed(new DynamoStateStore({ client, tableName, organisation: '35804', sleep: async () => {} }), [
    snapshot(1401, { dueDate: isoDay(now - 2 * DAY) }),
  ]);
  const registry = new DynamoRegistry({ client, tableName });
  await registry.add(35804, 'shared', now);
  secrets.secrets.set('slack/registry', JSON.stringify({ url: SLACK }));
  // No UPHANCE_ORGANISATION_ID: the deployment's only organisation is data (`organisations add`).
  const { UPHANCE_ORGANISATION_ID: _none, ...env } = saved;
  process.env = {
    ...env,
    ...localLambdaEnv({ dynamodb: endpoint, secretsManager: secrets.url }),
    TABLE_NAME: tableName,
    SLACK_WEBHOOK_SECRET_ARN: 'slack/registry',
    DIGEST_WHEN_EMPTY: 'false',
  };
  const posts: string[] = [];
  vi.spyOn(globalThis, 'fetch').mockImplementation(async (_input, init) => {
    posts.push(JSON.parse(String(init?.body)).text);
    return new Response('ok', { status: 200 });
  });
  vi.spyOn(process.stdout, 'write').mockImplementation(() => true);
  vi.resetModules();
  const { handler } = await import('../../functions/handlers/digest.js');

  expect(await handler({ scheduledTime: '2026-12-01T07:00:00Z' }, context)).toEqual({ sent: true });
  expect(posts).toHaveLength(1);
  expect(posts[0]).toMatch(/, organisation 35804\n/);
  expect(posts[0]).toContain('Overdue (1)\n- PO 401 · Atelier Nord');

  // Removed (`organisations remove`): the next day's run makes no digest of it.
  await registry.remove(35804, Date.now());
  posts.length = 0;
  expect(await handler({ scheduledTime: '2026-12-02T07:00:00Z' }, context)).toEqual({ sent: false });
  expect(posts).toEqual([]);
  expect(await new DynamoDigestMarker(client, tableName, '35804').last()).toMatchObject({
    run: '2026-12-01T07:00:00Z',
  });
});
