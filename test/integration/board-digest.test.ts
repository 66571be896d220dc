import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PutItemCommand } from '@aws-sdk/client-dynamodb';
import { describe, expect, it } from 'vitest';
import { DynamoDigestMarker } from '../../functions/adapters/dynamodb/digest-marker.js';
import { DynamoStateStore } from '../../functions/adapters/dynamodb/state-store.js';
import { FileDigestMarker } from '../../functions/adapters/file/digest-marker.js';
import { freshTable } from '../helpers/aws.js';
import { seededSnapshots, writeSeededState } from '../helpers/board-state.js';
import { cli } from '../helpers/cli.js';

describe('board and digest commands', () => {
  it('work on a state file: the page on --out, the digest on stdout and its marker beside the state', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'board-cli-'));
    const state = join(dir, 'state.json');
    await writeSeededState(state);
    const board = await cli(['board', '--state', state, '--out', join(dir, 'board.html')]);
    expect(board.code).toBe(0);
    expect(board.stdout).toBe('');
    const html = await readFile(join(dir, 'board.html'), 'utf8');
    expect(html).toContain('data-order="1001"');
    expect(html).toContain('Overdue');
    const digest = await cli(['digest', '--state', state]);
    expect(digest.code).toBe(0);
    expect(digest.stdout).toMatch(/^Uphance production digest for \d{4}-\d{2}-\d{2} \(UTC\)/);
    expect(digest.stdout).toContain('PO 1001 · Atelier Nord · due 2026-11-27');
    expect(JSON.parse(await readFile(`${state}.digest.json`, 'utf8')).lastDigestAt).toMatch(/^\d{4}-/);
  });

  it('work on DynamoDB Local, the digest marker kept as one item of the organisation', async () => {
    const { client, tableName, endpoint } = await freshTable();
    const store = new DynamoStateStore({ client, tableName, organisation: 'default', sleep: async () => {} });
    const outcome = await store.acquireLease({ owner: 'seed', nowMs: Date.now(), ttlMs: 60_000 });
    if (outcome.kind !== 'acquired') throw new Error('the fresh table has a lease');
    await store.applyWrites(
      { lease: outcome.lease },
      {
        writes: seededSnapshots().map((snapshot) => ({
          orderId: snapshot.order.id,
          snapshot,
          expectedRev: 0,
        })),
        checkpoint: null,
        commit: null,
        replay: false,
      },
    );
    await store.releaseLease(outcome.lease);
    const env = { AWS_ENDPOINT_URL_DYNAMODB: endpoint };
    const board = await cli(['board', '--table', tableName], env);
    expect(board.code).toBe(0);
    expect(board.stdout).toContain('<!doctype html>');
    expect(board.stdout.match(/<article /g)).toHaveLength(6);
    const digest = await cli(['digest', '--table', tableName, '--time-zone', 'Europe/Paris'], env);
    expect(digest.code).toBe(0);
    expect(digest.stdout).toContain('(Europe/Paris)');
    expect(digest.stdout).toContain('Stalled stages (1)');
    const marker = (await new DynamoDigestMarker(client, tableName, 'default').last())?.at;
    expect(marker).toMatch(/^\d{4}-\d{2}-\d{2}T/);
    // The marker item is not taken for a snapshot.
    const again = await cli(['board', '--table', tableName], env);
    expect(again.stdout.match(/<article /g)).toHaveLength(6);
  });

  it('follow the organisations: a digest per organisation, the board of the one --organisation names', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'board-orgs-'));
    const [a, b] = [seededSnapshots().slice(0, 2), seededSnapshots().slice(2, 3)];
    // Where the poller keeps several organisations' states: one file each beside --state.
    await writeSeededState(join(dir, 'state.35802.json'), a);
    await writeSeededState(join(dir, 'state.35803.json'), b);
    const env = { UPHANCE_ORGANISATION_ID: '35802,35803' };
    const state = join(dir, 'state.json');
    const digest = await cli(['digest', '--state', state], env);
    expect(digest.code).toBe(0);
    const headers = digest.stdout.split('\n').filter((l) => l.startsWith('Uphance production digest'));
    expect(headers.map((h) => h.replace(/.*, /, ''))).toEqual(['organisation 35802', 'organisation 35803']);
    expect(JSON.parse(await readFile(join(dir, 'state.35803.json.digest.json'), 'utf8')).until).toMatch(
      /^\d{4}-/,
    );
    const board = await cli(['board', '--state', state, '--organisation', '35803'], env);
    expect(board.stdout.match(/<article /g)).toHaveLength(1);
    expect(board.stdout).toContain('data-order="1003"');
    const wrong = await cli(['board', '--state', state, '--organisation', '4'], env);
    expect(wrong.code).toBe(2);
    expect(wrong.stderr).toContain('--organisation 4 is not one of UPHANCE_ORGANISATION_ID (35802,35803)');
    const alone = await cli(['digest', '--state', state, '--organisation', '35802']);
    expect(alone.code).toBe(2);
    expect(alone.stderr).toContain('--organisation needs UPHANCE_ORGANISATION_ID');
  });

  it('read a marker of the earlier version (its time, no period end) as a period ending at that time', async () => {
    const { client, tableName } = await freshTable();
    await client.send(
      new PutItemCommand({
        TableName: tableName,
        Item: {
          pk: { S: 'org#default' },
          sk: { S: 'digest' },
          lastDigestAt: { S: '2026-11-29T07:00:00.000Z' },
        },
      }),
    );
    const legacy = { at: '2026-11-29T07:00:00.000Z', until: '2026-11-29T07:00:00.000Z' };
    expect(await new DynamoDigestMarker(client, tableName, 'default').last()).toEqual(legacy);
    const dir = await mkdtemp(join(tmpdir(), 'marker-'));
    const file = new FileDigestMarker(join(dir, 'state.json'));
    await writeFile(
      file.path,
      JSON.stringify({ format: 'uphance-notifier-digest', lastDigestAt: legacy.at }),
    );
    expect(await file.last()).toEqual(legacy);
    await file.record({ at: '2026-11-30T07:00:00.000Z', until: '2026-11-30T06:45:00.000Z' });
    expect(await file.last()).toEqual({ at: '2026-11-30T07:00:00.000Z', until: '2026-11-30T06:45:00.000Z' });
  });
});
