import type { APIGatewayProxyEventV2, SQSEvent } from 'aws-lambda';
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import type { LocalEventBridge } from '../../local-aws/eventbridge-local.js';
import { startLocalEventBridge } from '../../local-aws/eventbridge-local.js';
import type { LocalSecrets } from '../../local-aws/secrets-local.js';
import { startLocalSecrets } from '../../local-aws/secrets-local.js';
import type { LocalSqs } from '../../local-aws/sqs-local.js';
import { startLocalSqs } from '../../local-aws/sqs-local.js';
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

const httpEvent = (method: string, path: string, body: string, sourceIp = '203.0.113.7') =>
  ({
    version: '2.0',
    routeKey: 'ANY /webhooks/uphance/{secret}',
    rawPath: path,
    rawQueryString: '',
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
    startLocalSqs(),
  ]);
});
afterAll(async () => {
  process.env = saved;
  await Promise.all([sim.close(), bus.close(), secrets.close(), sqs.close()]);
});

const env = (endpoint: string, tableName: string) => ({
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
  CHECK_QUEUE_URL: `${sqs.url}/123456789012/checks.fifo`,
});

describe('webhook endpoint and check consumer (deployed path, local endpoints)', () => {
  beforeEach(() => {
    vi.resetModules();
    vi.spyOn(process.stdout, 'write').mockImplementation(() => true);
    vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
  });

  it('answers every webhook without Uphance, queues accepted orders once a minute, and the consumer puts the events on the bus', async () => {
    const { tableName, endpoint } = await freshTable();
    secrets.secrets.set('uphance/credentials', JSON.stringify({ token: 'sim-token' }));
    secrets.secrets.set('uphance/webhook', SECRET);
    process.env = env(endpoint, tableName);
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
    const answers = [];
    for (let i = 0; i < 50; i++)
      answers.push(await webhook.handler(httpEvent('POST', path, ticket('1308')), context()));
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
    // The endpoint never called Uphance; fifty tickets within the minute are one queued check.
    expect(sim.totalRequests()).toBe(0);
    expect(sqs.sends).toBe(50);
    expect(sqs.messages).toHaveLength(1);
    expect(sqs.messages[0]).toMatchObject({
      queueUrl: `${sqs.url}/123456789012/checks.fifo`,
      groupId: 'checks',
    });

    const result = await check.handler(sqsEvent(sqs.messages.map((m) => m.body)), context());
    expect(result.batchItemFailures).toEqual([]);
    expect(result.reports[0]?.report).toMatchObject({
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
    const { DynamoStateStore } = await import('../../functions/adapters/dynamodb-store.js');
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
});
