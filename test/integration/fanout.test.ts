import { ChangeMessageVisibilityCommand, ReceiveMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { DynamoRegistry } from '../../functions/adapters/dynamodb-registry.js';
import { parsePollMessage } from '../../functions/fanout/message.js';
import { localDynamoDb } from '../../local-aws/clients.js';
import type { LocalEventBridge } from '../../local-aws/eventbridge-local.js';
import { startLocalEventBridge } from '../../local-aws/eventbridge-local.js';
import type { LocalSecrets } from '../../local-aws/secrets-local.js';
import { startLocalSecrets } from '../../local-aws/secrets-local.js';
import type { LocalSqs } from '../../local-aws/sqs-local.js';
import { startLocalSqs } from '../../local-aws/sqs-local.js';
import { generateOrders } from '../../simulator/generator.js';
import type { RunningSimulator } from '../../simulator/server.js';
import { startSimulator } from '../../simulator/server.js';
import { freshTable } from '../helpers/aws.js';
import { lambdaContext, localLambdaEnv } from '../helpers/lambda.js';
import { drainPollQueue, pollEvent, pollQueueUrl } from '../helpers/poll-queue.js';

/**
 * The deployed path end to end, with the events its triggers send: the schedule's input to the dispatcher,
 * the poll queue's records to the worker (drained as Lambda's event source does, one at a time), against
 * the simulator, DynamoDB Local, the local PutEvents, Secrets Manager and SQS endpoints.
 */
let sim: RunningSimulator;
let bus: LocalEventBridge;
let secrets: LocalSecrets;
let sqs: LocalSqs;
const saved = { ...process.env };
const ORG = { a: 35802, b: 35803, revoked: 35804, d: 35805 };
/** Every generated order is watched: a change to any of them is seen by the next cycle. */
const ordersOf = (organisationId: number, firstId: number) =>
  generateOrders({
    count: 12,
    seed: organisationId,
    organisationId,
    firstId,
    firstNumber: firstId / 10,
    watchedShare: 1,
  });

beforeAll(async () => {
  [sim, bus, secrets, sqs] = await Promise.all([
    startSimulator({
      organisations: [
        { id: ORG.a, name: 'Woah2 Fashion' },
        { id: ORG.b, name: 'Second Label' },
        { id: ORG.revoked, name: 'Gone Label' },
        { id: ORG.d, name: 'Fourth Label' },
      ],
      tokenOrganisations: { 'tok-shared': [ORG.a, ORG.b, ORG.d], 'tok-b': [ORG.b] },
      orders: [...ordersOf(ORG.a, 40_000), ...ordersOf(ORG.b, 50_000), ...ordersOf(ORG.d, 60_000)],
    }),
    startLocalEventBridge(),
    startLocalSecrets(),
    startLocalSqs(),
  ]);
});
afterAll(async () => {
  process.env = saved;
  await Promise.all([sim.close(), bus.close(), secrets.close(), sqs.close()]);
});

const context = () => lambdaContext(270_000, 'poll-worker');
const written = () =>
  [process.stdout.write, process.stderr.write]
    .flatMap((w) => (w as unknown as { mock: { calls: unknown[][] } }).mock.calls)
    .map((c) => String(c[0]))
    .join('\n');

/** The dispatcher and the worker, loaded as cold starts under the stack's environment. */
const deploy = async (secretId: string, seed?: string) => {
  const { tableName, endpoint, client } = await freshTable();
  process.env = {
    ...saved,
    ...localLambdaEnv(
      { dynamodb: endpoint, eventbridge: bus.url, secretsManager: secrets.url, sqs: sqs.url },
      'INFO',
    ),
    TABLE_NAME: tableName,
    EVENT_BUS_NAME: 'uphance-notifier',
    UPHANCE_SECRET_ARN: secretId,
    UPHANCE_API_URL: sim.url,
    POLL_QUEUE_URL: pollQueueUrl(sqs.url),
    SCHEDULE_MINUTES: '5',
    HEARTBEAT_INTERVALS: '3',
    ...(seed ? { UPHANCE_ORGANISATION_ID: seed } : {}),
  };
  const dispatch = await import('../../functions/handlers/dispatch.js');
  const worker = await import('../../functions/handlers/poll-worker.js');
  const registry = new DynamoRegistry({ client: localDynamoDb(endpoint), tableName });
  return {
    client,
    registry,
    dispatch: (scheduledAt: number) =>
      dispatch.handler({ scheduledTime: new Date(scheduledAt).toISOString() }, context()),
    drain: () => drainPollQueue(sqs.url, worker.handler, context),
    worker: worker.handler,
  };
};

describe('fan-out: dispatcher, poll queue and poll worker', () => {
  beforeEach(() => {
    vi.resetModules();
    vi.spyOn(process.stdout, 'write').mockImplementation(() => true);
    vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
  });

  it('polls each organisation on its own credentials, seeded or registered; one rejected is reported and stops none', async () => {
    secrets.secrets.set(
      'uphance/fanout-own',
      JSON.stringify({
        token: 'tok-shared',
        organisations: { [ORG.b]: { token: 'tok-b' }, [ORG.revoked]: { token: 'revoked-token' } },
      }),
    );
    const run = await deploy('uphance/fanout-own', String(ORG.a));
    await run.registry.add(ORG.b, 'own', Date.now());
    await run.registry.add(ORG.revoked, 'own', Date.now());
    // Each period is dispatched at its time, as the schedule does: after the cycles of the one before.
    const start = Date.now();

    const first = await run.dispatch(start);
    expect(first).toMatchObject({ organisations: 3, queued: 3, failing: [], stale: [] });
    const queued = sqs.messages.slice(-3);
    expect(queued.map((m) => parsePollMessage(m.body))).toEqual([
      { v: 1, organisationId: ORG.a, credentials: 'auto', scheduledAt: start },
      { v: 1, organisationId: ORG.b, credentials: 'own', scheduledAt: start },
      { v: 1, organisationId: ORG.revoked, credentials: 'own', scheduledAt: start },
    ]);
    // Three sets of credentials: three groups, worked side by side.
    expect(new Set(queued.map((m) => m.groupId)).size).toBe(3);
    const baseline = await run.drain();
    const outcome = (results: typeof baseline, id: number) => results.find((r) => r.organisationId === id);
    expect(outcome(baseline, ORG.a)).toMatchObject({ outcome: 'completed', report: { baseline: true } });
    expect(outcome(baseline, ORG.b)).toMatchObject({ outcome: 'completed', report: { baseline: true } });
    expect(outcome(baseline, ORG.revoked)).toMatchObject({
      outcome: 'failed',
      error: expect.stringMatching(/401|reject/i),
    });
    expect(bus.events).toHaveLength(0);

    sim.state.setDueDate(40_000, '2027-05-05');
    sim.state.setDueDate(50_000, '2027-06-06');
    const changed = await run.dispatch(Date.now());
    expect(changed).toMatchObject({ organisations: 3, queued: 3 });
    const second = await run.drain();
    expect(outcome(second, ORG.revoked)?.outcome).toBe('failed');
    const events = bus.events.map((e) => [
      e.detailType,
      e.detail.organisationId,
      (e.detail.order as { id: number }).id,
    ]);
    expect(events.sort()).toEqual([
      ['OrderDueDateChanged', ORG.a, 40_000],
      ['OrderDueDateChanged', ORG.b, 50_000],
    ]);

    // The next period's dispatcher counts the failing organisation and names it.
    const thirdPeriod = Date.now();
    const third = await run.dispatch(thirdPeriod);
    expect(third).toMatchObject({ failing: [ORG.revoked], queued: 3 });
    const logs = written();
    expect(logs).toMatch(/"OrganisationsFailing":1/);
    expect(logs).toMatch(/"OrganisationsDispatched":3/);
    expect(logs).toMatch(/1 organisations failing[^\n]*"organisationId":35804/);
    // The worker's failure: a log line naming the organisation, CycleFailed with and without its dimension.
    expect(logs).toMatch(/"level":"ERROR"[^\n]*"message":"cycle failed: [^\n]*"organisationId":35804/);
    expect(logs).toMatch(
      /"organisation":"35804"[^\n]*"CycleFailed":1|"CycleFailed":1[^\n]*"organisation":"35804"/,
    );
    // Healthy organisations get no metric of their own.
    expect(logs).not.toMatch(/"organisation":"3580[23]"/);
    for (const token of ['tok-shared', 'tok-b', 'revoked-token']) expect(logs).not.toContain(token);

    // The scheduler delivering the same period again queues nothing more.
    const before = sqs.pending(pollQueueUrl(sqs.url));
    await run.dispatch(thirdPeriod);
    expect(sqs.pending(pollQueueUrl(sqs.url))).toBe(before);
    await run.drain();
  });

  it('runs organisations on shared credentials one at a time, and drops a message a later cycle has covered', async () => {
    secrets.secrets.set('uphance/fanout-shared', JSON.stringify({ token: 'tok-shared' }));
    const run = await deploy('uphance/fanout-shared');
    await run.registry.add(ORG.a, 'shared', Date.now());
    await run.registry.add(ORG.d, 'shared', Date.now());
    await run.dispatch(Date.now());
    const queued = sqs.messages.slice(-2);
    expect(queued[0]?.groupId).toBe(queued[1]?.groupId);
    // One group: while the first organisation's message is out, the second is not handed to anyone.
    const client = new SQSClient({ endpoint: sqs.url });
    const receive = () =>
      client.send(new ReceiveMessageCommand({ QueueUrl: pollQueueUrl(sqs.url), VisibilityTimeout: 270 }));
    const out = await receive();
    expect(out.Messages).toHaveLength(1);
    expect((await receive()).Messages ?? []).toHaveLength(0);
    await client.send(
      new ChangeMessageVisibilityCommand({
        QueueUrl: pollQueueUrl(sqs.url),
        ReceiptHandle: out.Messages?.[0]?.ReceiptHandle,
        VisibilityTimeout: 0,
      }),
    );
    const results = await run.drain();
    expect(results.map((r) => [r.organisationId, r.outcome])).toEqual([
      [ORG.a, 'completed'],
      [ORG.d, 'completed'],
    ]);

    // Each organisation's cycle selected its own: every event is of its own orders.
    sim.state.setDueDate(40_001, '2027-07-07');
    sim.state.setDueDate(60_001, '2027-08-08');
    const second = Date.now();
    await run.dispatch(second);
    const fresh = bus.events.length;
    await run.drain();
    expect(
      bus.events
        .slice(fresh)
        .map((e) => [e.detail.organisationId, (e.detail.order as { id: number }).id])
        .sort(),
    ).toEqual([
      [ORG.a, 40_001],
      [ORG.d, 60_001],
    ]);

    // A message of a period that a cycle started since has covered (late, repeated): dropped, not run.
    const late = await run.worker(pollEvent(ORG.a, second, 'shared'), context());
    expect(late.batchItemFailures).toEqual([]);
    expect(late.results[0]).toMatchObject({ organisationId: ORG.a, outcome: 'superseded' });
    expect(written()).toMatch(/"PollMessagesSuperseded":1/);
    // One of a period that began after the last cycle started still runs.
    const next = await run.worker(pollEvent(ORG.a, Date.now(), 'shared'), context());
    expect(next.results[0]).toMatchObject({ outcome: 'completed' });
    // One of an organisation removed since it was queued is dropped, not run.
    await run.registry.remove(ORG.d, Date.now());
    const removed = await run.worker(pollEvent(ORG.d, Date.now(), 'shared'), context());
    expect(removed.batchItemFailures).toEqual([]);
    expect(removed.results[0]).toMatchObject({ organisationId: ORG.d, outcome: 'removed' });
  });
});
