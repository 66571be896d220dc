import { readFileSync } from 'node:fs';
import { CreateTableCommand } from '@aws-sdk/client-dynamodb';
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
import { pollEvent, pollQueueUrl } from '../helpers/poll-queue.js';

let sim: RunningSimulator;
let bus: LocalEventBridge;
let secrets: LocalSecrets;
let sqs: LocalSqs;
const saved = { ...process.env };

const context = (remainingMs = 300_000) => lambdaContext(remainingMs, 'poll');

beforeAll(async () => {
  [sim, bus, secrets, sqs] = await Promise.all([
    startSimulator({ orders: [...vendorExampleOrders(), ...generateOrders({ count: 40, seed: 6 })] }),
    startLocalEventBridge(),
    startLocalSecrets(),
    startLocalSqs(),
  ]);
});
afterAll(async () => {
  process.env = saved;
  await Promise.all([sim.close(), bus.close(), secrets.close(), sqs.close()]);
});

const baseEnv = (endpoint: string) =>
  localLambdaEnv({ dynamodb: endpoint, eventbridge: bus.url, secretsManager: secrets.url, sqs: sqs.url });

describe('poll worker Lambda handler', () => {
  beforeEach(() => {
    vi.resetModules();
    vi.spyOn(process.stdout, 'write').mockImplementation(() => true);
    vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
  });

  it('runs the cycle with credentials from the secret: silent baseline, then events on the bus', async () => {
    const { tableName, endpoint } = await freshTable();
    secrets.secrets.set('uphance/credentials', JSON.stringify({ token: 'sim-token' }));
    process.env = {
      ...saved,
      ...baseEnv(endpoint),
      TABLE_NAME: tableName,
      EVENT_BUS_NAME: 'uphance-notifier',
      UPHANCE_SECRET_ARN: 'uphance/credentials',
      UPHANCE_API_URL: sim.url,
    };
    const { handler } = await import('../../functions/handlers/poll-worker.js');
    const baseline = await handler(pollEvent(), context());
    expect(baseline.batchItemFailures).toEqual([]);
    expect(baseline.results[0]?.report).toMatchObject({ baseline: true, events: 0, outcome: 'completed' });
    sim.state.advanceStage(23621);
    const changed = await handler(pollEvent(), context());
    // Order 1308 has one line item: its Packing completing is also the whole order's (signals are on).
    expect(changed.results[0]?.report).toMatchObject({
      events: 2,
      eventsByType: { StageCompleted: 1, OrderStageCompleted: 1 },
    });
    // What the message cost, for the benchmark: Uphance requests, DynamoDB units, PutEvents entries.
    expect(changed.results[0]?.usage).toMatchObject({ putEventsEntries: 2 });
    expect(changed.results[0]?.usage?.apiCalls).toBeGreaterThan(0);
    expect(changed.results[0]?.usage?.writeUnits).toBeGreaterThan(0);
    expect(bus.events.map((e) => [e.busName, e.source, e.detailType])).toEqual([
      ['uphance-notifier', 'uphance.production-orders', 'StageCompleted'],
      ['uphance-notifier', 'uphance.production-orders', 'OrderStageCompleted'],
    ]);
    // The secret is cached between warm invocations.
    expect(secrets.reads).toBe(1);
    const emitted = (process.stdout.write as unknown as { mock: { calls: unknown[][] } }).mock.calls.map(
      (c) => String(c[0]),
    );
    expect(emitted.some((line) => line.includes('"EventsEmitted"'))).toBe(true);
    expect(emitted.join('\n')).not.toContain('sim-token');
  });

  it('fails the cold start with a message naming a missing or bad setting', async () => {
    process.env = {
      ...saved,
      ...baseEnv('http://127.0.0.1:1'),
      EVENT_BUS_NAME: 'b',
      UPHANCE_SECRET_ARN: 's',
    };
    const first = await import('../../functions/handlers/poll-worker.js');
    await expect(first.handler(pollEvent(), context())).rejects.toThrow(/TABLE_NAME must be set/);
    vi.resetModules();
    process.env = { ...process.env, TABLE_NAME: 't', CYCLE_BUDGET_SECONDS: 'ten' };
    const second = await import('../../functions/handlers/poll-worker.js');
    await expect(second.handler(pollEvent(), context())).rejects.toThrow(
      /CYCLE_BUDGET_SECONDS must be a positive whole number, got "ten"/,
    );
    // Every failure, configuration included, is a CycleFailed metric and a log line naming the cause.
    const written = [process.stdout.write, process.stderr.write]
      .flatMap((w) => (w as unknown as { mock: { calls: unknown[][] } }).mock.calls)
      .map((c) => String(c[0]))
      .join('\n');
    expect(written.match(/"CycleFailed":1/g)?.length).toBe(2);
    expect(written).toMatch(/cycle failed: TABLE_NAME must be set/);
    expect(written).toMatch(/cycle failed: CYCLE_BUDGET_SECONDS must be a positive whole number/);
  });

  it('a message whose lease is held records LeaseHeld, not LeaseLost, and goes back to the queue for 30 s', async () => {
    const { tableName, endpoint } = await freshTable();
    secrets.secrets.set('uphance/credentials', JSON.stringify({ token: 'sim-token' }));
    process.env = {
      ...saved,
      ...baseEnv(endpoint),
      TABLE_NAME: tableName,
      EVENT_BUS_NAME: 'uphance-notifier',
      UPHANCE_SECRET_ARN: 'uphance/credentials',
      UPHANCE_API_URL: sim.url,
      POLL_QUEUE_URL: pollQueueUrl(sqs.url),
    };
    const { DynamoStateStore } = await import('../../functions/adapters/dynamodb/state-store.js');
    const { localDynamoDb } = await import('../../local-aws/clients.js');
    const other = new DynamoStateStore({
      client: localDynamoDb(endpoint),
      tableName,
      organisation: 'default',
    });
    await other.acquireLease({ owner: 'another-run', nowMs: Date.now(), ttlMs: 600_000 });
    const { handler } = await import('../../functions/handlers/poll-worker.js');
    // The message as the event source hands it over: received from the queue, with its receipt handle.
    const { SQSClient, SendMessageCommand, ReceiveMessageCommand } = await import('@aws-sdk/client-sqs');
    const client = new SQSClient({ endpoint: sqs.url });
    const { pollMessageBody } = await import('../../functions/fanout/message.js');
    await client.send(
      new SendMessageCommand({
        QueueUrl: pollQueueUrl(sqs.url),
        MessageBody: pollMessageBody({
          v: 1,
          organisationId: null,
          credentials: 'auto',
          scheduledAt: Date.now(),
        }),
        MessageGroupId: 'g',
        MessageDeduplicationId: `lease-${Date.now()}`,
      }),
    );
    const [received] =
      (
        await client.send(
          new ReceiveMessageCommand({ QueueUrl: pollQueueUrl(sqs.url), VisibilityTimeout: 270 }),
        )
      ).Messages ?? [];
    const event = pollEvent();
    const record = {
      ...event.Records[0]!,
      messageId: 'held-1',
      receiptHandle: received?.ReceiptHandle ?? '',
    };
    // A short invocation: it waits a quarter of its budget for the lease (a few seconds), then gives back.
    const result = await handler({ Records: [record] }, context(30_000));
    expect(result.results[0]?.report).toMatchObject({
      outcome: 'lease-held',
      holder: { owner: 'another-run' },
    });
    expect(result.results[0]?.report?.waitedMs).toBeGreaterThan(1_000);
    // Retried, never lost: reported failed, and visible again in 30 s rather than after the 270 s timeout.
    expect(result.batchItemFailures).toEqual([{ itemIdentifier: 'held-1' }]);
    expect(sqs.visibilityChanges).toEqual([{ messageId: received?.MessageId, seconds: 30 }]);
    const written = (process.stdout.write as unknown as { mock: { calls: unknown[][] } }).mock.calls
      .map((c) => String(c[0]))
      .join('\n');
    expect(written).toContain('"LeaseHeld"');
    expect(written).not.toContain('"LeaseLost"');
    expect(written).not.toContain('"CycleFailed"');
  });

  it('a scheduled cycle that meets a check’s lease waits for it, then runs its period', async () => {
    const { tableName, endpoint } = await freshTable();
    secrets.secrets.set('uphance/credentials', JSON.stringify({ token: 'sim-token' }));
    process.env = {
      ...saved,
      ...baseEnv(endpoint),
      TABLE_NAME: tableName,
      EVENT_BUS_NAME: 'uphance-notifier',
      UPHANCE_SECRET_ARN: 'uphance/credentials',
      UPHANCE_API_URL: sim.url,
      POLL_QUEUE_URL: pollQueueUrl(sqs.url),
    };
    const { DynamoStateStore } = await import('../../functions/adapters/dynamodb/state-store.js');
    const { localDynamoDb } = await import('../../local-aws/clients.js');
    const check = new DynamoStateStore({
      client: localDynamoDb(endpoint),
      tableName,
      organisation: 'default',
    });
    const held = await check.acquireLease({ owner: 'a-webhook-check', nowMs: Date.now(), ttlMs: 600_000 });
    if (held.kind !== 'acquired') throw new Error('lease');
    const { handler } = await import('../../functions/handlers/poll-worker.js');
    // The check finishes a moment after the scheduled cycle started.
    const checkDone = new Promise<void>((resolve) => {
      setTimeout(() => void check.releaseLease(held.lease).then(resolve), 500);
    });
    const result = await handler(pollEvent(), context());
    await checkDone;
    expect(result.batchItemFailures).toEqual([]);
    expect(result.results[0]?.report).toMatchObject({ outcome: 'completed', baseline: true });
    expect(result.results[0]?.report?.waitedMs).toBeGreaterThanOrEqual(400);
  });

  it('a secret without usable credentials is a clear error that does not echo the secret (the message is consumed)', async () => {
    const { tableName, endpoint } = await freshTable();
    secrets.secrets.set('bad/secret', JSON.stringify({ user: 'x', pass: 'hunter2' }));
    process.env = {
      ...saved,
      ...baseEnv(endpoint),
      TABLE_NAME: tableName,
      EVENT_BUS_NAME: 'b',
      UPHANCE_SECRET_ARN: 'bad/secret',
      UPHANCE_API_URL: sim.url,
    };
    const { handler } = await import('../../functions/handlers/poll-worker.js');
    const result = await handler(pollEvent(), context());
    // The next period tries again: this message is not handed back.
    expect(result.batchItemFailures).toEqual([]);
    const error = result.results[0]?.error;
    expect(result.results[0]?.outcome).toBe('failed');
    expect(error).toMatch(
      /holds no usable Uphance credentials: put JSON \{"token": "..."\} or \{"email": "...", "password": "..."\}/,
    );
    const written = [process.stdout.write, process.stderr.write]
      .flatMap((w) => (w as unknown as { mock: { calls: unknown[][] } }).mock.calls)
      .map((c) => String(c[0]))
      .join('\n');
    expect(written).toMatch(
      /cycle failed: the secret UPHANCE_SECRET_ARN holds no usable Uphance credentials/,
    );
    expect(written + String(error)).not.toContain('hunter2');
  });
});

describe('example consumer Lambda', () => {
  it('parses a StageCompleted event with the exported schema and handles each eventId once', async () => {
    vi.resetModules();
    const { client, endpoint } = await freshTable();
    const idempotencyTable = `idem-${Date.now()}`;
    await client.send(
      new CreateTableCommand({
        TableName: idempotencyTable,
        BillingMode: 'PAY_PER_REQUEST',
        AttributeDefinitions: [{ AttributeName: 'id', AttributeType: 'S' }],
        KeySchema: [{ AttributeName: 'id', KeyType: 'HASH' }],
      }),
    );
    process.env = {
      ...saved,
      ...baseEnv(endpoint),
      POWERTOOLS_LOG_LEVEL: 'INFO',
      IDEMPOTENCY_TABLE_NAME: idempotencyTable,
    };
    const logged = vi.spyOn(process.stdout, 'write').mockImplementation(() => true);
    const consumer = await import('../../functions/handlers/example-consumer.js');
    const event = JSON.parse(readFileSync('schemas/examples/StageCompleted.json', 'utf8'));
    const first = await consumer.handler(event, context());
    expect(first.message).toBe(
      'PO 1308 · Packing completed on 3465O-3206 - Tie Frt V Neck Blouse Lt. Peach · Tribal Sportswear Inc.',
    );
    expect(logged.mock.calls.some((c) => String(c[0]).includes('Packing completed'))).toBe(true);
    logged.mockClear();
    const again = await consumer.handler(event, context());
    expect(again).toEqual(first);
    // The duplicate is answered from the idempotency record: the body did not run again.
    expect(logged.mock.calls.some((c) => String(c[0]).includes('Packing completed'))).toBe(false);
    const invalid = { ...event, detail: { ...event.detail, sequence: 0 } };
    const error = await consumer.handler(invalid, context()).catch((e: Error) => e);
    expect(error).toMatchObject({ name: 'ParseError' });
    expect(JSON.stringify((error as Error).cause)).toMatch(/sequence/);
  });
});
