import { SendMessageBatchCommand, SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import type { APIGatewayProxyEventV2, SQSEvent } from 'aws-lambda';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { DynamoRegistry } from '../../functions/adapters/dynamodb-registry.js';
import { CHECK_SLOT_MS } from '../../functions/webhook/message.js';
import { localDynamoDb } from '../../local-aws/clients.js';
import type { LocalEventBridge } from '../../local-aws/eventbridge-local.js';
import { startLocalEventBridge } from '../../local-aws/eventbridge-local.js';
import type { LocalSecrets } from '../../local-aws/secrets-local.js';
import { startLocalSecrets } from '../../local-aws/secrets-local.js';
import type { LocalSqs } from '../../local-aws/sqs-local.js';
import { FIFO_DEDUPLICATION_MS, startLocalSqs } from '../../local-aws/sqs-local.js';
import { vendorExampleOrders } from '../../simulator/fixtures.js';
import { generateOrders } from '../../simulator/generator.js';
import type { RunningSimulator } from '../../simulator/server.js';
import { startSimulator } from '../../simulator/server.js';
import { freshTable } from '../helpers/aws.js';
import { lambdaContext, localLambdaEnv } from '../helpers/lambda.js';
import { pollEvent } from '../helpers/poll-queue.js';

let sim: RunningSimulator;
let bus: LocalEventBridge;
let secrets: LocalSecrets;
let sqs: LocalSqs;
const saved = { ...process.env };
const SECRET = 'Zq9webhookSecretFromSecretsManager01';

const context = (remainingMs = 90_000) => lambdaContext(remainingMs);

const httpEvent = (
  method: string,
  path: string,
  body: string,
  sourceIp = '203.0.113.7',
  query: Record<string, string> = {},
) =>
  ({
    version: '2.0',
    routeKey: 'ANY /webhooks/uphance/{secret}',
    rawPath: path,
    rawQueryString: new URLSearchParams(query).toString(),
    ...(Object.keys(query).length > 0 ? { queryStringParameters: query } : {}),
    headers: { 'content-type': 'application/json' },
    isBase64Encoded: false,
    body,
    requestContext: { http: { method, path, sourceIp, protocol: 'HTTP/1.1', userAgent: 'Uphance' } },
  }) as unknown as APIGatewayProxyEventV2;

const sqsEvent = (bodies: string[]): SQSEvent => ({
  Records: bodies.map((body, i) => ({
    messageId: `m-${i}`,
    receiptHandle: `r-${i}`,
    body,
    attributes: {} as SQSEvent['Records'][number]['attributes'],
    messageAttributes: {},
    md5OfBody: '',
    eventSource: 'aws:sqs',
    eventSourceARN: 'arn:aws:sqs:us-east-1:123456789012:checks.fifo',
    awsRegion: 'us-east-1',
  })),
});

const ticket = (number: string) =>
  JSON.stringify({
    event: 'receiving_ticket_update',
    receiving_ticket: { id: 1, production_order_number: number },
  });

beforeAll(async () => {
  [sim, bus, secrets, sqs] = await Promise.all([
    startSimulator({ orders: [...vendorExampleOrders(), ...generateOrders({ count: 30, seed: 8 })] }),
    startLocalEventBridge(),
    startLocalSecrets(),
    // As deployed: every message held back one slot (the queue's delivery delay).
    startLocalSqs({ deliveryDelayMs: CHECK_SLOT_MS }),
  ]);
});
afterAll(async () => {
  process.env = saved;
  await Promise.all([sim.close(), bus.close(), secrets.close(), sqs.close()]);
});

let queues = 0;
/** A queue of its own per test: FIFO deduplication is per queue. */
const freshQueue = () => `${sqs.url}/123456789012/checks-${++queues}.fifo`;

const env = (endpoint: string, tableName: string, queueUrl = freshQueue()) => ({
  ...saved,
  ...localLambdaEnv(
    { dynamodb: endpoint, eventbridge: bus.url, secretsManager: secrets.url, sqs: sqs.url },
    'INFO',
  ),
  TABLE_NAME: tableName,
  EVENT_BUS_NAME: 'uphance-notifier',
  UPHANCE_SECRET_ARN: 'uphance/credentials',
  UPHANCE_API_URL: sim.url,
  WEBHOOK_SECRET_ARN: 'uphance/webhook',
  // The SDK sends to the queue URL's host: the local endpoint's.
  CHECK_QUEUE_URL: queueUrl,
});

type CheckModule = typeof import('../../functions/handlers/check.js');

/**
 * One invocation as the event source mapping makes it: what the queue hands out now, the check function's
 * answer, and the queue settled by it (the failures come back after the visibility timeout).
 */
const invokeCheck = async (check: CheckModule, queueUrl: string) => {
  const records = sqs.receive(queueUrl);
  if (records.length === 0) return undefined;
  const result = await check.handler({ Records: records }, context());
  sqs.settle(records, result);
  return { records, result };
};

/** Every invocation the queue feeds now, until it hands out nothing more. */
const drainChecks = async (check: CheckModule, queueUrl: string) => {
  const runs = [];
  for (let run = await invokeCheck(check, queueUrl); run; run = await invokeCheck(check, queueUrl))
    runs.push(run);
  return runs;
};

const lookupsOf = (number: string) =>
  sim.requests.filter((r) => new URLSearchParams(r.query).get('by_q') === number).length;

const stdoutText = () =>
  (process.stdout.write as unknown as { mock: { calls: unknown[][] } }).mock.calls
    .map((c) => String(c[0]))
    .join('\n');

/** Date alone is faked (timers and I/O stay real): the handlers and the local queue share this clock. */
const clock = {
  start: (at: number) => {
    vi.useFakeTimers({ toFake: ['Date'] });
    vi.setSystemTime(at);
  },
  set: (at: number) => vi.setSystemTime(at),
  advance: (ms: number) => vi.setSystemTime(Date.now() + ms),
};
/** The start of the next minute (a slot's start too). */
const nextMinute = () => Math.ceil((Date.now() + 1) / 60_000) * 60_000;

describe('webhook endpoint and check consumer (deployed path, local endpoints)', () => {
  beforeEach(() => {
    vi.resetModules();
    vi.spyOn(process.stdout, 'write').mockImplementation(() => true);
    vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('answers every webhook without Uphance, queues a burst once, and the consumer puts the events on the bus', async () => {
    const { tableName, endpoint } = await freshTable();
    secrets.secrets.set('uphance/credentials', JSON.stringify({ token: 'sim-token' }));
    secrets.secrets.set('uphance/webhook', SECRET);
    const queueUrl = freshQueue();
    process.env = env(endpoint, tableName, queueUrl);
    const webhook = await import('../../functions/handlers/webhook.js');
    const poll = await import('../../functions/handlers/poll-worker.js');
    const check = await import('../../functions/handlers/check.js');
    await poll.handler(pollEvent(), context(300_000));
    sim.state.setDeliveryStatus(23621, 'receiving');
    // Due in two days: the check runs the production signals as the scheduled cycle does (OrderDueSoon).
    const inTwoDays = new Date(Date.now() + 2 * 86_400_000).toISOString().slice(0, 10);
    sim.state.setDueDate(23621, inTwoDays);
    sim.resetCounts();

    const path = `/webhooks/uphance/${SECRET}`;
    const t0 = nextMinute() + 1_000;
    clock.start(t0);
    const sendsBefore = sqs.sends;
    const answers = [];
    for (let i = 0; i < 50; i++) {
      clock.set(t0 + i * 100);
      answers.push(await webhook.handler(httpEvent('POST', path, ticket('1308')), context()));
    }
    answers.push(
      await webhook.handler(
        httpEvent('POST', '/webhooks/uphance/guess-guess-guess', ticket('1308')),
        context(),
      ),
    );
    answers.push(await webhook.handler(httpEvent('GET', path, ''), context()));
    answers.push(await webhook.handler(httpEvent('POST', path, '[]'), context()));
    answers.push(await webhook.handler(httpEvent('POST', path, 'x'.repeat(1_048_577)), context()));
    answers.push(
      await webhook.handler(httpEvent('POST', path, JSON.stringify({ event: 'invoice_update' })), context()),
    );
    const statuses = answers.map((a) => (a as { statusCode: number }).statusCode);
    expect(statuses.slice(0, 50).every((s) => s === 202)).toBe(true);
    expect(statuses.slice(50)).toEqual([404, 405, 400, 413, 202]);
    // The endpoint never called Uphance; fifty tickets within one slot are one queued check.
    expect(sim.totalRequests()).toBe(0);
    expect(sqs.sends - sendsBefore).toBe(50);
    const queued = sqs.messages.filter((m) => m.queueUrl === queueUrl);
    expect(queued).toHaveLength(1);
    expect(queued[0]).toMatchObject({ groupId: 'all' });
    expect(JSON.parse(queued[0]?.body ?? '{}')).toEqual({ number: '1308', at: t0 });

    // Held back one slot: nothing to check before it ends.
    expect(await invokeCheck(check, queueUrl)).toBeUndefined();
    clock.set(t0 + CHECK_SLOT_MS);
    const run = await invokeCheck(check, queueUrl);
    expect(run?.result.batchItemFailures).toEqual([]);
    expect(run?.result.reports[0]?.report).toMatchObject({
      outcome: 'completed',
      checked: ['1308'],
      lookups: 1,
      events: 3,
    });
    expect(bus.events.map((e) => e.detailType)).toEqual([
      'OrderDueDateChanged',
      'OrderDeliveryStatusChanged',
      'OrderDueSoon',
    ]);
    // The scheduled cycle then emits nothing more for it.
    const after = await poll.handler(pollEvent(), context(300_000));
    expect(after.results[0]?.report).toMatchObject({ events: 0 });
    expect(bus.events).toHaveLength(3);
    const written = [process.stdout.write, process.stderr.write]
      .flatMap((w) => (w as unknown as { mock: { calls: unknown[][] } }).mock.calls)
      .map((c) => String(c[0]))
      .join('\n');
    expect(written).not.toContain(SECRET);
    expect(written).not.toContain('sim-token');
    expect(written).toMatch(/"WebhookAccepted":/);
  });

  it('hands a batch back while a scheduled cycle holds the lease, and checks it once the lease is free', async () => {
    const { tableName, endpoint } = await freshTable();
    secrets.secrets.set('uphance/credentials', JSON.stringify({ token: 'sim-token' }));
    process.env = env(endpoint, tableName);
    const poll = await import('../../functions/handlers/poll-worker.js');
    const check = await import('../../functions/handlers/check.js');
    await poll.handler(pollEvent(), context(300_000));
    sim.state.setDueDate(23621, '2027-03-03');
    const { DynamoStateStore } = await import('../../functions/adapters/dynamodb/state-store.js');
    const { localDynamoDb } = await import('../../local-aws/clients.js');
    const other = new DynamoStateStore({
      client: localDynamoDb(endpoint),
      tableName,
      organisation: 'default',
    });
    const held = await other.acquireLease({ owner: 'scheduled-cycle', nowMs: Date.now(), ttlMs: 600_000 });
    if (held.kind !== 'acquired') throw new Error('lease not taken');
    const before = bus.events.length;
    const busy = await check.handler(sqsEvent([JSON.stringify({ number: '1308' })]), context());
    expect(busy.batchItemFailures).toEqual([{ itemIdentifier: 'm-0' }]);
    expect(bus.events.length).toBe(before);
    await other.releaseLease(held.lease);
    const done = await check.handler(sqsEvent([JSON.stringify({ number: '1308' })]), context());
    expect(done.batchItemFailures).toEqual([]);
    expect(bus.events.slice(before).map((e) => e.detailType)).toEqual(['OrderDueDateChanged']);
  });

  it('a message per organisation: one whose credentials are rejected holds back its own checks only', async () => {
    const { tableName, endpoint } = await freshTable();
    // A secret of its own: Powertools caches secret values across the other tests' module reloads.
    secrets.secrets.set('uphance/isolation', JSON.stringify({ token: 'sim-token' }));
    secrets.secrets.set('uphance/webhook', SECRET);
    const queueUrl = freshQueue();
    process.env = {
      ...env(endpoint, tableName, queueUrl),
      UPHANCE_SECRET_ARN: 'uphance/isolation',
      UPHANCE_ORGANISATION_ID: '35802,35803',
    };
    const webhook = await import('../../functions/handlers/webhook.js');
    const poll = await import('../../functions/handlers/poll-worker.js');
    const check = await import('../../functions/handlers/check.js');
    // Both baselines recorded; then 35803's credentials are revoked (the secret re-read after 5 minutes).
    for (const id of [35802, 35803]) await poll.handler(pollEvent(id), context(300_000));
    secrets.secrets.set(
      'uphance/isolation',
      JSON.stringify({ token: 'sim-token', organisations: { '35803': { token: 'revoked-ORG-token' } } }),
    );
    sim.state.setDueDate(23621, '2027-05-05');
    const before = bus.events.length;

    const path = `/webhooks/uphance/${SECRET}`;
    const t0 = nextMinute() + 6 * 60_000 + 1_000;
    clock.start(t0);
    // One URL for every organisation (no ?organisation=), and one registered for the broken one.
    expect(await webhook.handler(httpEvent('POST', path, ticket('1308')), context())).toMatchObject({
      statusCode: 202,
    });
    expect(
      await webhook.handler(
        httpEvent('POST', path, ticket('1311'), '203.0.113.7', { organisation: '35803' }),
        context(),
      ),
    ).toMatchObject({ statusCode: 202 });
    const sent = sqs.messages.filter((m) => m.queueUrl === queueUrl);
    expect(sent.map((m) => m.groupId)).toEqual(['all', 'org-35803']);

    clock.set(t0 + CHECK_SLOT_MS);
    const first = await invokeCheck(check, queueUrl);
    // The message naming no organisation is fanned out (acknowledged); the broken organisation's own
    // message is the only one handed back.
    expect(first?.records).toHaveLength(2);
    expect(first?.result.batchItemFailures).toEqual([{ itemIdentifier: sent[1]?.messageId }]);
    const fanned = sqs.messages.filter((m) => m.queueUrl === queueUrl).slice(2);
    expect(fanned.map((m) => [m.groupId, JSON.parse(m.body)])).toEqual([
      ['org-35802', { number: '1308', organisationId: 35802, at: t0 }],
      ['org-35803', { number: '1308', organisationId: 35803, at: t0 }],
    ]);

    // 35803's group waits behind its failed message; 35802's check runs and completes.
    clock.advance(CHECK_SLOT_MS);
    const second = await invokeCheck(check, queueUrl);
    expect(second?.records.map((r) => r.messageId)).toEqual([fanned[0]?.messageId]);
    expect(second?.result.batchItemFailures).toEqual([]);
    expect(second?.result.reports).toMatchObject([
      { organisationId: 35802, report: { outcome: 'completed', checked: ['1308'] } },
    ]);
    expect(bus.events.slice(before).map((e) => [e.detailType, e.detail.organisationId])).toEqual([
      ['OrderDueDateChanged', 35802],
    ]);
    expect(await invokeCheck(check, queueUrl)).toBeUndefined();

    // After the visibility timeout the broken organisation's messages come back, and are handed back again.
    clock.advance(120_000);
    const third = await invokeCheck(check, queueUrl);
    expect(third?.records.map((r) => r.messageId)).toEqual([sent[1]?.messageId, fanned[1]?.messageId]);
    expect(third?.result.batchItemFailures.map((f) => f.itemIdentifier)).toEqual([
      sent[1]?.messageId,
      fanned[1]?.messageId,
    ]);
    expect(bus.events.slice(before)).toHaveLength(1);
    const written = stdoutText();
    expect(written).toMatch(
      /"organisation":"35803"[^\n]*"CheckFailed":1|"CheckFailed":1[^\n]*"organisation":"35803"/,
    );
    // The healthy organisation's checks are counted without a dimension of their own (no metric each).
    expect(written).toMatch(/"CheckCompleted":1/);
    expect(written).not.toMatch(
      /"organisation":"35802"[^\n]*"CheckCompleted":1|"CheckCompleted":1[^\n]*"organisation":"35802"/,
    );
    expect(written).not.toContain('revoked-ORG-token');
  });

  it('checks an organisation added to the registry only, and drops the checks of one removed', async () => {
    const { tableName, endpoint } = await freshTable();
    secrets.secrets.set('uphance/registry-only', JSON.stringify({ token: 'sim-token' }));
    secrets.secrets.set('uphance/webhook', SECRET);
    const queueUrl = freshQueue();
    // No UPHANCE_ORGANISATION_ID: the deployment's only organisation is data (`organisations add`).
    process.env = { ...env(endpoint, tableName, queueUrl), UPHANCE_SECRET_ARN: 'uphance/registry-only' };
    const registry = new DynamoRegistry({ client: localDynamoDb(endpoint), tableName });
    await registry.add(35802, 'shared', Date.now());
    const webhook = await import('../../functions/handlers/webhook.js');
    const poll = await import('../../functions/handlers/poll-worker.js');
    const check = await import('../../functions/handlers/check.js');
    // The dispatcher would queue it so: its baseline, in its own partition.
    await poll.handler(pollEvent(35802, Date.now(), 'shared'), context(300_000));
    sim.state.setDueDate(23621, '2027-10-10');
    const before = bus.events.length;

    const path = `/webhooks/uphance/${SECRET}`;
    const t0 = nextMinute() + 1_000;
    clock.start(t0);
    await webhook.handler(httpEvent('POST', path, ticket('1308')), context());
    clock.set(t0 + CHECK_SLOT_MS);
    const run = await invokeCheck(check, queueUrl);
    // A message naming no organisation goes to the only one, the registered organisation.
    expect(run?.result.batchItemFailures).toEqual([]);
    expect(run?.result.reports).toMatchObject([
      { organisationId: 35802, report: { outcome: 'completed', checked: ['1308'], noBaseline: false } },
    ]);
    expect(bus.events.slice(before).map((e) => [e.detailType, e.detail.organisationId])).toEqual([
      ['OrderDueDateChanged', 35802],
    ]);

    // Removed: a check naming it is dropped, and none runs.
    await registry.remove(35802, Date.now());
    sim.state.setDueDate(23621, '2027-11-11');
    clock.advance(60_000);
    await webhook.handler(
      httpEvent('POST', path, ticket('1308'), '203.0.113.7', { organisation: '35802' }),
      context(),
    );
    clock.advance(CHECK_SLOT_MS);
    const dropped = await invokeCheck(check, queueUrl);
    expect(dropped?.records).toHaveLength(1);
    expect(dropped?.result).toMatchObject({ batchItemFailures: [], reports: [] });
    expect(bus.events.slice(before)).toHaveLength(1);
    const logged = [process.stdout.write, process.stderr.write]
      .flatMap((w) => (w as unknown as { mock: { calls: unknown[][] } }).mock.calls)
      .map((c) => String(c[0]))
      .join('\n');
    expect(logged).toMatch(/dropping a check for an organisation that is not configured/);
  });

  it('counts the events a check set aside (EventsSetAside) and its failures as the poll function does', async () => {
    const { tableName, endpoint } = await freshTable();
    secrets.secrets.set('uphance/credentials', JSON.stringify({ token: 'sim-token' }));
    process.env = env(endpoint, tableName);
    const poll = await import('../../functions/handlers/poll-worker.js');
    const check = await import('../../functions/handlers/check.js');
    await poll.handler(pollEvent(), context(300_000));
    sim.state.setDueDate(23621, '2027-06-06');
    // The bus refuses the event for good: it is set aside in the state, and the alarm's metric counts it.
    bus.faults.push({ kind: 'fail-entries', indexes: [0], errorCode: 'MalformedDetail' });
    const result = await check.handler(sqsEvent([JSON.stringify({ number: '1308' })]), context());
    expect(result.batchItemFailures).toEqual([]);
    expect(result.reports[0]?.report).toMatchObject({ outcome: 'completed', events: 1, setAside: 1 });
    expect(stdoutText()).toMatch(/"EventsSetAside":1/);
    expect(stdoutText()).toMatch(/"CheckCompleted":1/);
  });

  it('a ticket after its order’s check in the same minute gets a check of its own; a burst costs one look-up', async () => {
    const { tableName, endpoint } = await freshTable();
    secrets.secrets.set('uphance/credentials', JSON.stringify({ token: 'sim-token' }));
    secrets.secrets.set('uphance/webhook', SECRET);
    const queueUrl = freshQueue();
    process.env = env(endpoint, tableName, queueUrl);
    const webhook = await import('../../functions/handlers/webhook.js');
    const poll = await import('../../functions/handlers/poll-worker.js');
    const check = await import('../../functions/handlers/check.js');
    await poll.handler(pollEvent(), context(300_000));
    const path = `/webhooks/uphance/${SECRET}`;
    const send = (number: string) => webhook.handler(httpEvent('POST', path, ticket(number)), context());
    const before = bus.events.length;
    sim.resetCounts();

    // Fifty tickets in two seconds, across a slot's end: two messages, one look-up.
    const minute = nextMinute();
    const burstStart = minute + CHECK_SLOT_MS - 1_000;
    clock.start(burstStart);
    sim.state.setDueDate(23621, '2027-08-08');
    for (let i = 0; i < 50; i++) {
      clock.set(burstStart + i * 40);
      await send('1308');
    }
    expect(sqs.messages.filter((m) => m.queueUrl === queueUrl)).toHaveLength(2);
    clock.set(burstStart + CHECK_SLOT_MS);
    const leading = await drainChecks(check, queueUrl);
    expect(leading).toHaveLength(1);
    expect(leading[0]?.records).toHaveLength(1);
    clock.set(burstStart + 49 * 40 + CHECK_SLOT_MS);
    // The second message's tickets all came before that check started: acknowledged, no look-up.
    const covered = await drainChecks(check, queueUrl);
    expect(covered).toHaveLength(1);
    expect(covered[0]?.result).toMatchObject({ batchItemFailures: [], reports: [] });
    expect(lookupsOf('1308')).toBe(1);
    expect(bus.events.slice(before).map((e) => e.detailType)).toEqual(['OrderDueDateChanged']);

    // Seconds later, still in the same minute: the order moves again and a ticket says so.
    clock.advance(1_000);
    expect(Math.floor(Date.now() / 60_000)).toBe(Math.floor(minute / 60_000));
    sim.state.setDueDate(23621, '2027-09-09');
    await send('1308');
    clock.advance(CHECK_SLOT_MS);
    const again = await drainChecks(check, queueUrl);
    expect(again).toHaveLength(1);
    expect(again[0]?.result.reports[0]?.report).toMatchObject({ outcome: 'completed', checked: ['1308'] });
    expect(lookupsOf('1308')).toBe(2);
    expect(bus.events.slice(before).map((e) => [e.detailType, e.detail.change])).toEqual([
      ['OrderDueDateChanged', { from: expect.anything(), to: '2027-08-08' }],
      ['OrderDueDateChanged', { from: '2027-08-08', to: '2027-09-09' }],
    ]);
  });

  it('fifty tickets over a minute cost a few look-ups, the last one after the last ticket', async () => {
    const { tableName, endpoint } = await freshTable();
    secrets.secrets.set('uphance/credentials', JSON.stringify({ token: 'sim-token' }));
    secrets.secrets.set('uphance/webhook', SECRET);
    const queueUrl = freshQueue();
    process.env = env(endpoint, tableName, queueUrl);
    const webhook = await import('../../functions/handlers/webhook.js');
    const poll = await import('../../functions/handlers/poll-worker.js');
    const check = await import('../../functions/handlers/check.js');
    await poll.handler(pollEvent(), context(300_000));
    const path = `/webhooks/uphance/${SECRET}`;
    const before = bus.events.length;
    sim.resetCounts();
    const t0 = nextMinute() + 500;
    clock.start(t0);
    for (let i = 0; i < 50; i++) {
      clock.set(t0 + i * 1_200);
      // The check function runs whenever the queue hands something out.
      await drainChecks(check, queueUrl);
      if (i === 49) sim.state.setDueDate(23621, '2027-07-07');
      await webhook.handler(httpEvent('POST', path, ticket('1308')), context());
    }
    for (let t = t0 + 49 * 1_200; t <= t0 + 49 * 1_200 + 2 * CHECK_SLOT_MS; t += 1_000) {
      clock.set(t);
      await drainChecks(check, queueUrl);
    }
    // Look-ups of one order are more than a slot apart: at most six a minute.
    const lookups = lookupsOf('1308');
    expect(lookups).toBeGreaterThanOrEqual(2);
    expect(lookups).toBeLessThanOrEqual(6);
    // The change behind the last ticket was checked at once, not left to the schedule.
    expect(bus.events.slice(before).map((e) => e.detailType)).toEqual(['OrderDueDateChanged']);
    expect(sqs.messages.filter((m) => m.queueUrl === queueUrl && m.status !== 'deleted')).toEqual([]);
  });

  it('a flood of wrong secrets never spends the limit that Uphance’s webhooks use', async () => {
    secrets.secrets.set('uphance/webhook', SECRET);
    const queueUrl = freshQueue();
    process.env = env('http://127.0.0.1:1', 'unused', queueUrl);
    const webhook = await import('../../functions/handlers/webhook.js');
    const flood = [];
    for (let i = 0; i < 1_000; i++)
      flood.push(
        await webhook.handler(httpEvent('POST', `/webhooks/uphance/guess-${i}`, ticket('1308')), context()),
      );
    expect(flood.every((a) => (a as { statusCode: number }).statusCode === 404)).toBe(true);
    // From the same address as the flood: still accepted.
    const path = `/webhooks/uphance/${SECRET}`;
    expect(await webhook.handler(httpEvent('POST', path, ticket('1308')), context())).toMatchObject({
      statusCode: 202,
    });
    expect(sqs.messages.filter((m) => m.queueUrl === queueUrl)).toHaveLength(1);
    // Counted, not logged one by one.
    expect(stdoutText()).toMatch(/"WebhookRejected":1/);
    expect(stdoutText()).not.toMatch(/webhook refused/);
  });
});

describe('local SQS (as SQS FIFO)', () => {
  const client = () =>
    new SQSClient({
      endpoint: sqs.url,
      region: 'us-east-1',
      credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
    });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('drops a repeated deduplication id for 5 minutes after it was sent, per queue, even once deleted', async () => {
    const sqsClient = client();
    const [a, b] = [freshQueue(), freshQueue()];
    const message = (queueUrl: string, body: string) =>
      new SendMessageCommand({
        QueueUrl: queueUrl,
        MessageBody: body,
        MessageGroupId: 'g',
        MessageDeduplicationId: 'same',
      });
    const t0 = Date.now();
    vi.useFakeTimers({ toFake: ['Date'] });
    vi.setSystemTime(t0);
    await sqsClient.send(message(a, 'first'));
    await sqsClient.send(message(b, 'other queue'));
    vi.setSystemTime(t0 + CHECK_SLOT_MS);
    sqs.settle(sqs.receive(a), {});
    vi.setSystemTime(t0 + FIFO_DEDUPLICATION_MS - 1);
    await sqsClient.send(message(a, 'repeat'));
    vi.setSystemTime(t0 + FIFO_DEDUPLICATION_MS);
    await sqsClient.send(message(a, 'after the interval'));
    expect(sqs.messages.filter((m) => m.queueUrl === a).map((m) => m.body)).toEqual([
      'first',
      'after the interval',
    ]);
    expect(sqs.messages.filter((m) => m.queueUrl === b).map((m) => m.body)).toEqual(['other queue']);
  });

  it('requires a group and a deduplication id, refuses a per-message delay, and takes batches of 1 to 10', async () => {
    const sqsClient = client();
    const queueUrl = freshQueue();
    await expect(
      sqsClient.send(
        new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: 'x', MessageDeduplicationId: 'd' }),
      ),
    ).rejects.toThrow(/MessageGroupId/);
    await expect(
      sqsClient.send(new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: 'x', MessageGroupId: 'g' })),
    ).rejects.toThrow(/MessageDeduplicationId/);
    await expect(
      sqsClient.send(
        new SendMessageCommand({
          QueueUrl: queueUrl,
          MessageBody: 'x',
          MessageGroupId: 'g',
          MessageDeduplicationId: 'd',
          DelaySeconds: 5,
        }),
      ),
    ).rejects.toThrow(/DelaySeconds/);
    const out = await sqsClient.send(
      new SendMessageBatchCommand({
        QueueUrl: queueUrl,
        Entries: [
          { Id: '0', MessageBody: 'a', MessageGroupId: 'g', MessageDeduplicationId: 'a' },
          { Id: '1', MessageBody: 'b', MessageDeduplicationId: 'b' },
        ],
      }),
    );
    expect(out.Successful?.map((e) => e.Id)).toEqual(['0']);
    expect(out.Failed?.map((e) => [e.Id, e.Code])).toEqual([['1', 'MissingParameter']]);
  });

  it('hands out a group in order, one batch at a time, after the delivery delay; failures come back later', async () => {
    const sqsClient = client();
    const queueUrl = freshQueue();
    const t0 = Date.now();
    vi.useFakeTimers({ toFake: ['Date'] });
    vi.setSystemTime(t0);
    for (const [id, group] of [
      ['a1', 'a'],
      ['b1', 'b'],
      ['a2', 'a'],
    ] as const)
      await sqsClient.send(
        new SendMessageCommand({
          QueueUrl: queueUrl,
          MessageBody: id,
          MessageGroupId: group,
          MessageDeduplicationId: id,
        }),
      );
    expect(sqs.receive(queueUrl)).toEqual([]);
    vi.setSystemTime(t0 + CHECK_SLOT_MS);
    const first = sqs.receive(queueUrl, 1);
    expect(first.map((r) => r.body)).toEqual(['a1']);
    // a2 waits behind a1 (in flight); b is another group.
    expect(sqs.receive(queueUrl).map((r) => r.body)).toEqual(['b1']);
    sqs.settle(first, { batchItemFailures: [{ itemIdentifier: first[0]?.messageId ?? '' }] });
    expect(sqs.receive(queueUrl)).toEqual([]);
    vi.setSystemTime(t0 + CHECK_SLOT_MS + 120_000);
    const again = sqs.receive(queueUrl);
    expect(
      again.map((r) => [r.body, r.attributes.ApproximateReceiveCount, r.attributes.MessageGroupId]),
    ).toEqual([
      ['a1', '2', 'a'],
      ['a2', '1', 'a'],
    ]);
  });
});
