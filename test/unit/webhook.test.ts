import { request } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import type { PushPath } from '../../functions/cli/push.js';
import { startPushPath, webhookSettings } from '../../functions/cli/push.js';
import type { WebhookListener } from '../../functions/cli/webhook-listener.js';
import { startWebhookListener } from '../../functions/cli/webhook-listener.js';
import { runCycle } from '../../functions/cycle/cycle.js';
import { silentLogger } from '../../functions/cycle/ports.js';
import { ConfigError } from '../../functions/runtime/config.js';
import { buildOrganisationRuntimes } from '../../functions/runtime/organisations.js';
import { batchItemFailures, planChecks } from '../../functions/webhook/batch.js';
import { CheckQueue } from '../../functions/webhook/check-queue.js';
import { judgeHead, judgeWebhook, orderNumberOf, secretMatches } from '../../functions/webhook/intake.js';
import { CHECK_SLOT_MS, checkMessage, groupOf, parseCheckMessage } from '../../functions/webhook/message.js';
import { RateLimiter } from '../../functions/webhook/rate-limit.js';
import { RecentChecks } from '../../functions/webhook/recent-checks.js';
import { vendorExampleOrders } from '../../simulator/fixtures.js';
import type { RunningSimulator } from '../../simulator/server.js';
import { startSimulator } from '../../simulator/server.js';
import { DEFAULT_OPTIONS, tempStatePath } from '../helpers/harness.js';

const SECRET = 'a-webhook-secret-of-32-characters';
const PATH = `/webhooks/uphance/${SECRET}`;
const ticket = (number: unknown, event = 'receiving_ticket_update') =>
  JSON.stringify({ event, receiving_ticket: { id: 7, production_order_number: number, lines: [] } });

describe('webhook intake', () => {
  const judge = (method: string, path: string, body: string | { tooLarge: true }, organisation?: string) =>
    judgeWebhook({ method, path, body, organisation: organisation ?? null }, SECRET, [35802, 35803]);

  it('accepts a receiving ticket naming a production order (202, the number to check)', () => {
    expect(judge('POST', PATH, ticket('1308'))).toMatchObject({ status: 202, check: { number: '1308' } });
    expect(judge('POST', PATH, ticket(1308, 'receiving_ticket_create')).check).toEqual({ number: '1308' });
    expect(judge('POST', PATH, ticket('1308'), '35803').check).toEqual({
      number: '1308',
      organisationId: 35803,
    });
  });

  it('acknowledges and ignores well-formed events naming no production order (202)', () => {
    for (const body of [
      JSON.stringify({ event: 'pick_ticket_update', pick_ticket: { id: 1 } }),
      JSON.stringify({ event: 'receiving_ticket_update', receiving_ticket: { id: 1 } }),
      ticket(''),
      ticket({ nested: true }),
      '{}',
    ]) {
      expect(judge('POST', PATH, body)).toMatchObject({ status: 202, check: null, reason: 'ignored' });
    }
    expect(judge('POST', PATH, ticket('1308'), '99999')).toMatchObject({ status: 202, check: null });
  });

  it('answers 404 for a wrong or missing secret, whatever else is wrong, revealing nothing', () => {
    for (const path of [
      '/webhooks/uphance/',
      '/webhooks/uphance/wrong',
      `${PATH}x`,
      '/',
      `/other/${SECRET}`,
    ]) {
      const answer = judge('GET', path, { tooLarge: true });
      expect(answer).toMatchObject({ status: 404, check: null, body: { status: 'not found' } });
      expect(JSON.stringify(answer)).not.toContain(SECRET);
    }
  });

  it('answers 405 for another method, 413 past 1 MB, 400 for a body that is not a JSON object', () => {
    expect(judge('GET', PATH, '').status).toBe(405);
    expect(judge('PUT', PATH, ticket('1308')).status).toBe(405);
    expect(judge('POST', PATH, { tooLarge: true }).status).toBe(413);
    expect(judge('POST', PATH, `{"pad":"${'x'.repeat(1_048_576)}"}`).status).toBe(413);
    for (const body of ['', 'not json', '[1,2]', '"1308"', 'null', '42']) {
      expect(judge('POST', PATH, body)).toMatchObject({ status: 400, check: null });
    }
  });

  it('compares secrets in constant time over digests (any length compares)', () => {
    expect(secretMatches(SECRET, SECRET)).toBe(true);
    expect(secretMatches(`${SECRET}x`, SECRET)).toBe(false);
    expect(secretMatches('', SECRET)).toBe(false);
  });

  it('judges the secret before the rate limit: a request without it never spends the limit', () => {
    let asked = 0;
    const admit = () => {
      asked++;
      return false;
    };
    expect(judgeHead('POST', '/webhooks/uphance/guess', SECRET, admit)).toMatchObject({ status: 404 });
    expect(judgeHead('GET', '/', SECRET, admit)).toMatchObject({ status: 404 });
    expect(asked).toBe(0);
    expect(judgeHead('POST', PATH, SECRET, admit)).toMatchObject({ status: 429, reason: 'rate-limited' });
    expect(asked).toBe(1);
    expect(judgeHead('GET', PATH, SECRET, () => true)).toMatchObject({ status: 405 });
    expect(judgeHead('POST', PATH, SECRET, () => true)).toBeNull();
  });

  it('accepts a valid webhook after a flood of wrong secrets from the same address', () => {
    const limiter = new RateLimiter({ perAddressPerMinute: 120, totalPerMinute: 600 }, 0);
    const admit = () => limiter.allow('198.51.100.9', 0);
    for (let i = 0; i < 10_000; i++) {
      const answer = judgeWebhook(
        { method: 'POST', path: `/webhooks/uphance/guess-${i}`, body: ticket('1308') },
        SECRET,
        [],
        admit,
      );
      expect(answer.status).toBe(404);
    }
    expect(
      judgeWebhook({ method: 'POST', path: PATH, body: ticket('1308') }, SECRET, [], admit),
    ).toMatchObject({
      status: 202,
      check: { number: '1308' },
    });
  });

  it('takes any organisation id when the endpoint does not know the organisations (the check function judges)', () => {
    const judge = (organisation: string) =>
      judgeWebhook({ method: 'POST', path: PATH, body: ticket('1308'), organisation }, SECRET, 'any');
    expect(judge('35804').check).toEqual({ number: '1308', organisationId: 35804 });
    for (const bad of ['x1', '-3', '1'.repeat(16)])
      expect(judge(bad)).toMatchObject({ status: 202, check: null, reason: 'unknown-organisation' });
  });

  it('takes the order number from receiving tickets only, bounded', () => {
    expect(
      orderNumberOf({
        event: 'receiving_ticket_update',
        receiving_ticket: { production_order_number: ' 1311 ' },
      }),
    ).toBe('1311');
    expect(
      orderNumberOf({ event: 'invoice_update', receiving_ticket: { production_order_number: '1311' } }),
    ).toBeNull();
    expect(
      orderNumberOf({
        event: 'receiving_ticket_update',
        receiving_ticket: { production_order_number: 'x'.repeat(65) },
      }),
    ).toBeNull();
  });

  it('round-trips queue messages (with the ticket time) and deduplicates one order within a slot only', () => {
    const slot = Date.UTC(2026, 10, 30, 10, 0, 0);
    const t = slot + 2_000;
    const a = checkMessage({ number: '1308', organisationId: 35802 }, t);
    expect(parseCheckMessage(a.body)).toEqual({ number: '1308', organisationId: 35802, at: t });
    const sameSlot = checkMessage({ number: '1308', organisationId: 35802 }, slot + CHECK_SLOT_MS - 1);
    expect(sameSlot.deduplicationId).toBe(a.deduplicationId);
    const nextSlot = checkMessage({ number: '1308', organisationId: 35802 }, slot + CHECK_SLOT_MS);
    expect(nextSlot.deduplicationId).not.toBe(a.deduplicationId);
    expect(checkMessage({ number: '1308' }, t).deduplicationId).not.toBe(a.deduplicationId);
    expect(checkMessage({ number: '1308', organisationId: 35803 }, t).deduplicationId).not.toBe(
      a.deduplicationId,
    );
    // Older messages carry no time; anything malformed is refused.
    expect(parseCheckMessage('{"number":"1308"}')).toEqual({ number: '1308' });
    for (const bad of ['{"number": 5}', 'nope', '{"number":"1","at":"soon"}', '{"number":"1","at":-1}'])
      expect(parseCheckMessage(bad)).toBeNull();
  });

  it('puts each organisation’s checks in a message group of its own', () => {
    expect(checkMessage({ number: '1308', organisationId: 35802 }, 0).groupId).toBe('org-35802');
    expect(checkMessage({ number: '1308', organisationId: 35803 }, 0).groupId).toBe('org-35803');
    expect(checkMessage({ number: '1308' }, 0).groupId).toBe('all');
    expect(groupOf(undefined)).toBe('all');
  });

  it('requires UPHANCE_WEBHOOK_SECRET (16 characters at least) with --webhook-port, naming it, never its value', () => {
    expect(webhookSettings({}, {})).toBeUndefined();
    expect(webhookSettings({ webhookPort: '8080' }, { UPHANCE_WEBHOOK_SECRET: SECRET })).toEqual({
      port: 8080,
      host: '127.0.0.1',
      secret: SECRET,
    });
    expect(() => webhookSettings({ webhookPort: '8080' }, {})).toThrow(/UPHANCE_WEBHOOK_SECRET must be set/);
    const short = () => webhookSettings({ webhookPort: '8080' }, { UPHANCE_WEBHOOK_SECRET: 'short-Secret' });
    expect(short).toThrow(ConfigError);
    expect(short).toThrow(/at least 16/);
    expect(short).not.toThrow(/short-Secret/);
    expect(() =>
      webhookSettings({ webhookPort: '8080', once: true }, { UPHANCE_WEBHOOK_SECRET: SECRET }),
    ).toThrow(/--once/);
    expect(() => webhookSettings({ webhookPort: 'http' }, { UPHANCE_WEBHOOK_SECRET: SECRET })).toThrow(
      /--webhook-port/,
    );
  });
});

describe('poll --webhook-port', () => {
  it('is a configuration error (exit 2) naming UPHANCE_WEBHOOK_SECRET when it is missing or short', async () => {
    const { runPoll } = await import('../../functions/cli/poll.js');
    for (const secret of [undefined, 'too-short-Value']) {
      const errors: string[] = [];
      const code = await runPoll(
        { webhookPort: '0', state: tempStatePath() },
        {
          env: {
            UPHANCE_TOKEN: 'sim-token',
            UPHANCE_API_URL: 'http://127.0.0.1:1',
            UPHANCE_WEBHOOK_SECRET: secret,
          },
          stdout: () => {},
          logger: { ...silentLogger, error: (message) => errors.push(message) },
          isTty: false,
        },
      );
      expect(code).toBe(2);
      expect(errors.join('\n')).toMatch(/UPHANCE_WEBHOOK_SECRET/);
      if (secret) expect(errors.join('\n')).not.toContain(secret);
    }
  });
});

describe('coalescing queue', () => {
  it('a burst for one order costs one check', () => {
    const queue = new CheckQueue({ settleMs: 2_000, windowMs: 60_000 });
    const outcomes = Array.from({ length: 50 }, (_, i) => queue.add({ number: '1308' }, 1_000 + i * 10));
    expect(outcomes.filter((o) => o === 'queued')).toHaveLength(1);
    expect(queue.coalesced).toBe(49);
    expect(queue.take(2_999)).toEqual([]);
    expect(queue.take(3_000)).toEqual([{ number: '1308' }]);
    expect(queue.size).toBe(0);
  });

  it('fifty tickets spread over a minute cost at most two checks, the last one after the last ticket', () => {
    const queue = new CheckQueue({ settleMs: 2_000, windowMs: 60_000 });
    const checks: number[] = [];
    for (let t = 0; t <= 60_000; t += 100) {
      if (t % 1_200 === 0 && t < 60_000) queue.add({ number: '1308' }, t);
      if (queue.take(t).length > 0) checks.push(t);
    }
    for (let t = 60_000; t <= 130_000; t += 1_000) if (queue.take(t).length > 0) checks.push(t);
    expect(checks).toEqual([2_000, 62_000]);
  });

  it('keeps orders apart, puts back what could not run, and bounds what waits', () => {
    const queue = new CheckQueue({ settleMs: 0, maxPending: 2 });
    expect(queue.add({ number: '1' }, 0)).toBe('queued');
    expect(queue.add({ number: '1', organisationId: 35803 }, 0)).toBe('queued');
    expect(queue.add({ number: '2' }, 0)).toBe('full');
    const due = queue.take(0);
    expect(due).toHaveLength(2);
    queue.retry(due, 10);
    expect(queue.nextDueAt()).toBe(10);
    expect(queue.take(10)).toHaveLength(2);
  });
});

describe('rate limit', () => {
  it('answers no beyond the per-address rate, refills with time, and keeps addresses apart', () => {
    const limiter = new RateLimiter({ perAddressPerMinute: 3, totalPerMinute: 5 }, 0);
    expect([1, 2, 3, 4].map(() => limiter.allow('10.0.0.1', 0))).toEqual([true, true, true, false]);
    expect(limiter.allow('10.0.0.2', 0)).toBe(true);
    expect(limiter.allow('10.0.0.3', 0)).toBe(true);
    // The total is spent (5 a minute), whatever the address.
    expect(limiter.allow('10.0.0.4', 0)).toBe(false);
    expect(limiter.allow('10.0.0.1', 20_000)).toBe(true);
  });
});

describe('check batches', () => {
  const record = (id: string, check: { number: string; organisationId?: number; at?: number }) => ({
    id,
    group: groupOf(check.organisationId),
    check,
  });

  it('routes each message to its organisation; with several, one naming none is fanned out', () => {
    const batch = [
      record('a', { number: '1308' }),
      record('b', { number: '1311', organisationId: 35803 }),
      record('c', { number: '1308', organisationId: 35802 }),
      record('d', { number: '9', organisationId: 99999 }),
    ];
    const several = planChecks(batch, [35802, 35803]);
    expect(several.fanOut.map((r) => r.id)).toEqual(['a']);
    expect([...several.byOrganisation].map(([org, list]) => [org, list.map((r) => r.id)])).toEqual([
      [35803, ['b']],
      [35802, ['c']],
    ]);
    expect(several.unknown.map((r) => r.id)).toEqual(['d']);
    // One organisation checks what names none itself: no fan-out hop.
    const one = planChecks(batch, [35802]);
    expect(one.fanOut).toEqual([]);
    expect(one.byOrganisation.get(35802)?.map((r) => r.id)).toEqual(['a', 'c']);
    expect(one.unknown.map((r) => r.id)).toEqual(['b', 'd']);
    expect(
      planChecks([record('a', { number: '1' })], [undefined]).byOrganisation.get(undefined),
    ).toHaveLength(1);
  });

  it('hands back only the failed messages and those behind them in their own group', () => {
    const batch = [
      { id: 'a1', group: 'org-1' },
      { id: 'b1', group: 'org-2' },
      { id: 'a2', group: 'org-1' },
      { id: 'b2', group: 'org-2' },
      { id: 'b3', group: 'org-2' },
      { id: 'c1', group: 'org-3' },
    ];
    expect(batchItemFailures(batch, new Set(['b2']))).toEqual([
      { itemIdentifier: 'b2' },
      { itemIdentifier: 'b3' },
    ]);
    expect(batchItemFailures(batch, new Set())).toEqual([]);
    expect(batchItemFailures(batch, new Set(['a1', 'c1'])).map((f) => f.itemIdentifier)).toEqual([
      'a1',
      'a2',
      'c1',
    ]);
  });

  it('remembers when each order’s last check started: tickets before it are covered, bounded', () => {
    const recent = new RecentChecks(2);
    recent.record(35802, '1308', 10_000);
    expect(recent.covers(35802, '1308', 9_999)).toBe(true);
    expect(recent.covers(35802, '1308', 10_000)).toBe(false);
    expect(recent.covers(35803, '1308', 5_000)).toBe(false);
    expect(recent.covers(35802, '1308', undefined)).toBe(false);
    // A late record of an older check never moves the time back.
    recent.record(35802, '1308', 4_000);
    expect(recent.covers(35802, '1308', 9_999)).toBe(true);
    recent.record(35802, '1311', 10_000);
    recent.record(35802, '1312', 10_000);
    expect(recent.covers(35802, '1308', 1)).toBe(false);
    expect(recent.covers(35802, '1312', 1)).toBe(true);
  });
});

const post = (url: string, path: string, body: string | Buffer, method = 'POST') =>
  new Promise<{ status: number; body: string }>((resolve, reject) => {
    const req = request(
      `${url}${path}`,
      { method, headers: { 'content-type': 'application/json' } },
      (res) => {
        let text = '';
        res.on('data', (d) => {
          text += String(d);
        });
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text }));
      },
    );
    req.on('error', (error) => {
      // The listener may close the connection of an oversized body before it is all sent.
      if (
        (error as NodeJS.ErrnoException).code === 'EPIPE' ||
        (error as NodeJS.ErrnoException).code === 'ECONNRESET'
      ) {
        resolve({ status: 413, body: '' });
      } else reject(error);
    });
    req.end(body);
  });

describe('command-line listener', { timeout: 60_000 }, () => {
  let listener: WebhookListener | undefined;
  let push: PushPath | undefined;
  let sim: RunningSimulator | undefined;
  afterEach(async () => {
    await Promise.all([listener?.close(), push?.close(), sim?.close()]);
    listener = undefined;
    push = undefined;
    sim = undefined;
  });

  it('gives every answer of the contract over HTTP, queueing only accepted orders; 429 beyond the rate', async () => {
    const queue = new CheckQueue({ settleMs: 0 });
    let woken = 0;
    const logged: string[] = [];
    const log = (message: string, fields?: Record<string, unknown>) =>
      logged.push(`${message} ${JSON.stringify(fields ?? {})}`);
    listener = await startWebhookListener({
      port: 0,
      host: '127.0.0.1',
      secret: SECRET,
      organisationIds: [],
      queue,
      logger: { debug: log, info: log, warn: log, error: log },
      now: () => 0,
      onQueued: () => {
        woken++;
      },
      rateLimiter: new RateLimiter({ perAddressPerMinute: 8 }, 0),
    });
    const answers = [
      await post(listener.url, PATH, ticket('1308')),
      await post(listener.url, '/webhooks/uphance/not-the-secret-at-all', ticket('1308')),
      await post(listener.url, PATH, '', 'GET'),
      await post(listener.url, PATH, '[1]'),
      await post(listener.url, PATH, JSON.stringify({ event: 'invoice_update', invoice: {} })),
      await post(listener.url, PATH, Buffer.alloc(1_048_577, 0x20)),
      await post(listener.url, PATH, ticket('1311')),
      await post(listener.url, PATH, ticket('1308')),
      // The 404 above spent nothing: this is the eighth request that counts.
      await post(listener.url, PATH, ticket('1308')),
    ];
    expect(answers.map((a) => a.status)).toEqual([202, 404, 405, 400, 202, 413, 202, 202, 202]);
    expect((await post(listener.url, PATH, ticket('1308'))).status).toBe(429);
    expect(queue.size).toBe(2);
    expect(queue.coalesced).toBe(2);
    expect(woken).toBe(4);
    expect(logged.join('\n')).not.toContain(SECRET);
  });

  it('accepts a valid webhook after a flood of wrong secrets from the same address (404s spend no limit)', async () => {
    const queue = new CheckQueue({ settleMs: 0 });
    listener = await startWebhookListener({
      port: 0,
      host: '127.0.0.1',
      secret: SECRET,
      organisationIds: [],
      queue,
      logger: silentLogger,
      now: () => 0,
      onQueued: () => {},
    });
    // The default limit: 120 a minute from one address, 600 in all.
    const flood = [];
    for (let i = 0; i < 300; i++)
      flood.push(post(listener.url, `/webhooks/uphance/guess-${i}`, ticket('1308')));
    const refused = await Promise.all(flood);
    expect(refused.every((a) => a.status === 404)).toBe(true);
    expect(await post(listener.url, PATH, ticket('1308'))).toMatchObject({ status: 202 });
    expect(queue.size).toBe(1);
  });

  it('checks a webhook’s order between cycles: fifty tickets, one look-up, its events printed at once', async () => {
    sim = await startSimulator({ orders: vendorExampleOrders() });
    const printed: string[] = [];
    const organisations = buildOrganisationRuntimes(
      {
        apiUrl: sim.url,
        state: { kind: 'file', path: tempStatePath() },
        sink: { kind: 'stdout', pretty: false, write: (line) => printed.push(line) },
        source: 'uphance.production-orders',
        requestTimeoutMs: 5_000,
      },
      [],
      () => ({ kind: 'token', token: 'sim-token' }),
      silentLogger,
    );
    const runtime = organisations[0]?.runtime;
    if (!runtime) throw new Error('no runtime');
    await runCycle(
      { ...runtime.deps, now: Date.now, logger: silentLogger },
      { ...DEFAULT_OPTIONS, owner: 'schedule' },
    );
    push = await startPushPath(
      { port: 0, host: '127.0.0.1', secret: SECRET },
      organisations,
      { cycle: DEFAULT_OPTIONS, organisationIds: [] },
      { logger: silentLogger, queue: { settleMs: 0 } },
    );
    sim.state.setDeliveryStatus(23621, 'receiving');
    const answers = await Promise.all(
      Array.from({ length: 50 }, () => post(push!.listener.url, PATH, ticket('1308'))),
    );
    expect(answers.every((a) => a.status === 202)).toBe(true);
    sim.resetCounts();
    const reports = await push.drain();
    expect(reports).toHaveLength(1);
    expect(reports[0]).toMatchObject({ outcome: 'completed', checked: ['1308'], lookups: 1, events: 1 });
    expect(sim.requests.filter((r) => r.query.includes('by_q=1308'))).toHaveLength(1);
    expect(printed.map((line) => JSON.parse(line)['detail-type'])).toEqual(['OrderDeliveryStatusChanged']);
    // Nothing more: the next scheduled cycle finds the snapshot up to date.
    const cycle = await runCycle(
      { ...runtime.deps, now: Date.now, logger: silentLogger },
      { ...DEFAULT_OPTIONS, owner: 'schedule' },
    );
    expect(cycle.events).toBe(0);
  });

  it('puts an order back when another runner holds the lease, and checks it once the lease is free', async () => {
    sim = await startSimulator({ orders: vendorExampleOrders() });
    const organisations = buildOrganisationRuntimes(
      {
        apiUrl: sim.url,
        state: { kind: 'file', path: tempStatePath() },
        sink: { kind: 'stdout', pretty: false, write: () => {} },
        source: 'uphance.production-orders',
        requestTimeoutMs: 5_000,
      },
      [],
      () => ({ kind: 'token', token: 'sim-token' }),
      silentLogger,
    );
    const runtime = organisations[0]!.runtime!;
    await runCycle(
      { ...runtime.deps, now: Date.now, logger: silentLogger },
      { ...DEFAULT_OPTIONS, owner: 'schedule' },
    );
    push = await startPushPath(
      { port: 0, host: '127.0.0.1', secret: SECRET },
      organisations,
      { cycle: DEFAULT_OPTIONS, organisationIds: [] },
      { logger: silentLogger, queue: { settleMs: 0 } },
    );
    const held = await runtime.store.acquireLease({
      owner: 'a scheduled cycle elsewhere',
      nowMs: Date.now(),
      ttlMs: 60_000,
    });
    if (held.kind !== 'acquired') throw new Error('lease not taken');
    expect((await post(push.listener.url, PATH, ticket('1308'))).status).toBe(202);
    const first = await push.drain();
    expect(first[0]).toMatchObject({ outcome: 'lease-held', unchecked: ['1308'] });
    expect(push.queue.size).toBe(1);
    await runtime.store.releaseLease(held.lease);
    const second = await push.drain();
    expect(second[0]).toMatchObject({ outcome: 'completed', checked: ['1308'] });
    expect(push.queue.size).toBe(0);
  });
});

describe('simulator push', () => {
  it('calls back on every delivery with a receiving-ticket webhook the intake accepts', async () => {
    const { SimulatorState } = await import('../../simulator/state.js');
    const { LiveActivity } = await import('../../simulator/live.js');
    const { receivingTicketWebhook } = await import('../../simulator/webhooks.js');
    const state = new SimulatorState(() => Date.UTC(2026, 10, 30));
    state.load(vendorExampleOrders());
    const delivered: string[] = [];
    const live = new LiveActivity(state, 3, Date.now, (order) => {
      const body = JSON.stringify(receivingTicketWebhook(order));
      const answer = judgeWebhook({ method: 'POST', path: PATH, body }, SECRET);
      if (answer.check) delivered.push(answer.check.number);
    });
    live.tick(300);
    const deliveries = state.ledger.filter((entry) => entry.kind === 'delivery_status');
    expect(deliveries.length).toBeGreaterThan(0);
    expect(delivered).toEqual(
      deliveries.map((entry) => String(state.get(entry.orderId).raw.production_order_number)),
    );
  });
});
