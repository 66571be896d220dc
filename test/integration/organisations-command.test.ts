import { SQSClient } from '@aws-sdk/client-sqs';
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { DynamoRegistry } from '../../functions/adapters/dynamodb-registry.js';
import { SqsPollQueue } from '../../functions/adapters/sqs-poll-queue.js';
import { periodMessages } from '../../functions/fanout/plan.js';
import { localDynamoDb } from '../../local-aws/clients.js';
import type { LocalSecrets } from '../../local-aws/secrets-local.js';
import { startLocalSecrets } from '../../local-aws/secrets-local.js';
import type { LocalSqs } from '../../local-aws/sqs-local.js';
import { startLocalSqs } from '../../local-aws/sqs-local.js';
import { freshTable } from '../helpers/aws.js';
import { cli } from '../helpers/cli.js';
import { lambdaContext, localLambdaEnv } from '../helpers/lambda.js';
import { pollQueueUrl } from '../helpers/poll-queue.js';

let secrets: LocalSecrets;
let sqs: LocalSqs;
const saved = { ...process.env };
const SECRET = 'arn:aws:secretsmanager:us-east-1:123456789012:secret:uphance-AbCdEf';

beforeAll(async () => {
  [secrets, sqs] = await Promise.all([startLocalSecrets(), startLocalSqs()]);
});
afterAll(async () => {
  process.env = saved;
  await Promise.all([secrets.close(), sqs.close()]);
});

/** The command line against DynamoDB Local and the local Secrets Manager endpoint. */
const organisations = (endpoint: string, args: string[], env: Record<string, string> = {}) =>
  cli(['organisations', ...args], {
    AWS_ENDPOINT_URL_DYNAMODB: endpoint,
    AWS_ENDPOINT_URL_SECRETS_MANAGER: secrets.url,
    ...env,
  });

const secretValue = () => JSON.parse(secrets.secrets.get(SECRET) ?? 'null');

describe('uphance-notifier organisations', () => {
  beforeEach(() => {
    secrets.secrets.set(
      SECRET,
      JSON.stringify({ token: 'shared-token', organisations: { '35803': { token: 'own-35803' } } }),
    );
  });

  it('a deployment polling its credentials’ organisation unnamed: that one is added first, or none is', async () => {
    const { tableName, endpoint, client } = await freshTable();
    // The unnamed state, recorded as organisation 35802's (org#default, as the worker keeps it).
    const { DynamoStateStore } = await import('../../functions/adapters/dynamodb/state-store.js');
    const unnamed = new DynamoStateStore({ client, tableName, organisation: 'default' });
    const held = await unnamed.acquireLease({ owner: 'test', nowMs: Date.now(), ttlMs: 60_000 });
    if (held.kind !== 'acquired') throw new Error('lease');
    const { emptyCheckpoint } = await import('../../functions/cycle/cycle.js');
    await unnamed.applyWrites(
      { lease: held.lease },
      {
        writes: [],
        checkpoint: { ...emptyCheckpoint(), baselineAt: '2026-12-01T00:00:00Z', organisationId: 35802 },
        commit: null,
        replay: false,
      },
    );
    await unnamed.releaseLease(held.lease);
    const other = await organisations(endpoint, ['add', '35803', '--table', tableName]);
    expect(other.code).toBe(2);
    expect(other.stderr).toMatch(
      /polls organisation 35802 \(state org#default\); adding 35803 alone would stop that: add 35802 first/,
    );
    expect((await new DynamoRegistry({ client, tableName }).read()).entries).toEqual([]);
    expect((await organisations(endpoint, ['add', '35802', '--table', tableName])).code).toBe(0);
    expect((await organisations(endpoint, ['add', '35803', '--table', tableName])).code).toBe(0);
  });

  it('adds an organisation on its own credentials (kept in the secret beside the others, never printed) or on the shared ones', async () => {
    const { tableName, endpoint } = await freshTable();
    const own = await organisations(endpoint, ['add', '35804', '--table', tableName, '--secret', SECRET], {
      UPHANCE_TOKEN: 'tok-35804-secret',
    });
    expect(own.code, own.stderr).toBe(0);
    expect(own.stdout).toMatch(/organisation 35804 added with its own credentials/);
    expect(secretValue()).toEqual({
      token: 'shared-token',
      organisations: { '35803': { token: 'own-35803' }, '35804': { token: 'tok-35804-secret' } },
    });
    const password = await organisations(
      endpoint,
      ['add', '35806', '--table', tableName, '--secret', SECRET],
      {
        UPHANCE_EMAIL: 'ops@brand.example',
        UPHANCE_PASSWORD: 'pw-35806-secret',
      },
    );
    expect(password.code, password.stderr).toBe(0);
    expect(secretValue().organisations['35806']).toEqual({
      email: 'ops@brand.example',
      password: 'pw-35806-secret',
    });
    const writes = secrets.writes;
    const shared = await organisations(endpoint, ['add', '35805', '--table', tableName]);
    expect(shared.code, shared.stderr).toBe(0);
    expect(shared.stdout).toMatch(/organisation 35805 added with the shared credentials/);
    // The shared credentials need no change to the secret.
    expect(secrets.writes).toBe(writes);
    const registry = new DynamoRegistry({ client: localDynamoDb(endpoint), tableName });
    const { entries } = await registry.read();
    expect(entries.map((e) => [e.organisationId, e.credentials, e.removed])).toEqual([
      [35804, 'own', false],
      [35805, 'shared', false],
      [35806, 'own', false],
    ]);
    for (const run of [own, password, shared])
      for (const text of ['tok-35804-secret', 'pw-35806-secret', 'shared-token'])
        expect(run.stdout + run.stderr).not.toContain(text);

    const listed = await organisations(endpoint, ['list', '--table', tableName]);
    expect(listed.code, listed.stderr).toBe(0);
    expect(
      listed.stdout
        .trim()
        .split('\n')
        .map((line) => JSON.parse(line)),
    ).toEqual([
      expect.objectContaining({
        organisationId: 35804,
        credentials: 'own',
        source: 'registry',
        state: 'active',
      }),
      expect.objectContaining({ organisationId: 35805, credentials: 'shared', state: 'active' }),
      expect.objectContaining({ organisationId: 35806, credentials: 'own', state: 'active' }),
    ]);

    // On a terminal: a table, with a failing organisation's last error as a JSON string (no control codes).
    await registry.recordRun(35804, {
      startedAt: Date.parse('2026-12-01T10:00:00Z'),
      finishedAt: Date.parse('2026-12-01T10:00:02Z'),
      outcome: 'failed',
      error: 'Uphance answered \u001b[2Jrejected',
    });
    process.env = { ...saved, ...localLambdaEnv({ dynamodb: endpoint }) };
    const { runOrganisations } = await import('../../functions/cli/organisations.js');
    const lines: string[] = [];
    const quiet = { debug: () => {}, info: () => {}, warn: () => {}, error: () => {} };
    const code = await runOrganisations(
      'list',
      undefined,
      { table: tableName },
      { env: process.env, stdout: (line) => lines.push(line), logger: quiet, isTty: true },
    );
    expect(code).toBe(0);
    expect(lines[0]).toMatch(
      /^organisation +credentials +source +state +last cycle +outcome +last completed +error$/,
    );
    expect(lines[1]).toMatch(
      /^35804 +own +registry +active +2026-12-01T10:00:02\.000Z +failed +- +"Uphance answered \\u001b\[2Jrejected"$/,
    );
    expect(lines.join('\n')).not.toContain('\u001b');
  });

  it('removes an organisation: the registry records it (also over the deployment’s list), its own credentials leave the secret', async () => {
    const { tableName, endpoint } = await freshTable();
    expect((await organisations(endpoint, ['add', '35803', '--table', tableName])).code).toBe(0);
    const removed = await organisations(endpoint, [
      'remove',
      '35803',
      '--table',
      tableName,
      '--secret',
      SECRET,
    ]);
    expect(removed.code, removed.stderr).toBe(0);
    expect(removed.stdout).toMatch(/organisation 35803 removed: not polled from the next period/);
    expect(secretValue()).toEqual({ token: 'shared-token', organisations: {} });
    // A seeded organisation (the deployment's organisationIds) is removed the same way.
    expect((await organisations(endpoint, ['remove', '35802', '--table', tableName])).code).toBe(0);

    // The dispatcher of a deployment naming 35802 and 35810 polls 35810 alone.
    vi.resetModules();
    vi.spyOn(process.stdout, 'write').mockImplementation(() => true);
    process.env = {
      ...saved,
      ...localLambdaEnv({ dynamodb: endpoint, secretsManager: secrets.url, sqs: sqs.url }),
      TABLE_NAME: tableName,
      UPHANCE_SECRET_ARN: SECRET,
      POLL_QUEUE_URL: pollQueueUrl(sqs.url),
      UPHANCE_ORGANISATION_ID: '35802,35810',
    };
    const { handler } = await import('../../functions/handlers/dispatch.js');
    const report = await handler({ scheduledTime: new Date().toISOString() }, lambdaContext(60_000));
    expect(report).toMatchObject({ organisations: 1, queued: 1 });
    expect(JSON.parse(sqs.messages.at(-1)?.body ?? '{}')).toMatchObject({
      organisationId: 35810,
      credentials: 'auto',
    });

    // `list` shows the seed the dispatcher recorded, and the removed ones.
    const listed = await organisations(endpoint, ['list', '--table', tableName, '--json']);
    expect(
      listed.stdout
        .trim()
        .split('\n')
        .map((line) => JSON.parse(line)),
    ).toEqual([
      expect.objectContaining({
        organisationId: 35810,
        source: 'seed',
        state: 'active',
        credentials: 'auto',
      }),
      expect.objectContaining({ organisationId: 35802, source: 'seed+registry', state: 'removed' }),
      expect.objectContaining({ organisationId: 35803, source: 'registry', state: 'removed' }),
    ]);
    // Added again, it is polled again.
    expect((await organisations(endpoint, ['add', '35802', '--table', tableName])).code).toBe(0);
    vi.resetModules();
    const again = await (await import('../../functions/handlers/dispatch.js')).handler(
      { scheduledTime: new Date(Date.now() + 1).toISOString() },
      lambdaContext(60_000),
    );
    expect(again).toMatchObject({ organisations: 2, queued: 2 });
  });

  it.each([
    [['add', 'abc'], /the organisation id must be a positive whole number \(e\.g\. 35804\), got "abc"/],
    [['add', '0'], /the organisation id must be a positive whole number/],
    [['add'], /give the organisation id/],
    [['remove', '-3'], /the organisation id must be a positive whole number/],
  ])('refuses a bad id (exit 2, naming it): %j', async (args, message) => {
    const { tableName, endpoint } = await freshTable();
    const run = await organisations(endpoint, [...args, '--table', tableName]);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(message);
  });

  it('refuses an unknown table, a missing secret, credentials without a secret and a missing --table (exit 2, naming what)', async () => {
    const { tableName, endpoint } = await freshTable();
    const noTable = await organisations(endpoint, ['add', '35804', '--table', 'no-such-table']);
    expect(noTable.code).toBe(2);
    expect(noTable.stderr).toMatch(
      /table "no-such-table" not found \(give the stack's StateTableName output/,
    );
    const listNoTable = await organisations(endpoint, ['list', '--table', 'no-such-table']);
    expect(listNoTable.code).toBe(2);
    expect(listNoTable.stderr).toMatch(/table "no-such-table" not found/);
    const noSecret = await organisations(
      endpoint,
      ['add', '35804', '--table', tableName, '--secret', 'uphance/missing'],
      { UPHANCE_TOKEN: 'tok-35804-secret' },
    );
    expect(noSecret.code).toBe(2);
    expect(noSecret.stderr).toMatch(/the secret uphance\/missing was not found/);
    expect(noSecret.stderr).not.toContain('tok-35804-secret');
    const withoutSecret = await organisations(endpoint, ['add', '35804', '--table', tableName], {
      UPHANCE_TOKEN: 'tok-35804-secret',
    });
    expect(withoutSecret.code).toBe(2);
    expect(withoutSecret.stderr).toMatch(/UPHANCE_TOKEN \(or UPHANCE_EMAIL\) is set: give --secret ARN/);
    const halfPassword = await organisations(
      endpoint,
      ['add', '35804', '--table', tableName, '--secret', SECRET],
      {
        UPHANCE_EMAIL: 'ops@brand.example',
      },
    );
    expect(halfPassword.code).toBe(2);
    expect(halfPassword.stderr).toMatch(/UPHANCE_EMAIL and UPHANCE_PASSWORD go together/);
    const noFlag = await organisations(endpoint, ['add', '35804']);
    expect(noFlag.code).toBe(2);
    expect(noFlag.stderr).toMatch(/--table NAME is required/);
    // None of them registered anything.
    const registry = new DynamoRegistry({ client: localDynamoDb(endpoint), tableName });
    expect((await registry.read()).entries).toEqual([]);
  });
});

describe('the poll queue adapter', () => {
  it('sends ten a call, resends what failed on SQS’s side, and reports what it refused as the sender’s fault', async () => {
    const client = new SQSClient({
      region: 'us-east-1',
      endpoint: sqs.url,
      credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
    });
    const queue = new SqsPollQueue({
      client,
      queueUrl: `${sqs.url}/123456789012/adapter.fifo`,
      sleep: async () => {},
    });
    const organisations = Array.from({ length: 23 }, (_, i) => ({
      organisationId: 40_000 + i,
      credentials: 'shared' as const,
    }));
    sqs.batchFaults.push(
      { ids: ['org-40001', 'org-40002'] },
      { ids: ['org-40002'] },
      { ids: [] },
      { ids: ['org-40011'], senderFault: true, code: 'InvalidParameterValue' },
    );
    const before = sqs.batchSends;
    const outcome = await queue.send(periodMessages(organisations, 1_000, () => 'g'));
    // Three batches of at most ten, and two resends in the first; the sender's fault is not resent.
    expect(sqs.batchSends - before).toBe(5);
    expect(outcome).toEqual({
      sent: 22,
      calls: 5,
      failed: [{ entryId: 'org-40011', code: 'InvalidParameterValue' }],
    });
    expect(sqs.pending(`${sqs.url}/123456789012/adapter.fifo`)).toBe(22);
  });
});
