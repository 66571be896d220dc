import { describe, expect, it } from 'vitest';
import { HISTORY_SHARDS, historyShardOf } from '../../functions/adapters/dynamodb/history.js';
import { DynamoStateStore } from '../../functions/adapters/dynamodb/state-store.js';
import { FileStateStore } from '../../functions/adapters/file/state-store.js';
import type { StageSample } from '../../functions/core/history.js';
import { ACCOUNT_SAMPLES } from '../../functions/core/history.js';
import type { StateStore } from '../../functions/cycle/ports.js';
import type { Fence } from '../../functions/cycle/records.js';
import { freshTable } from '../helpers/aws.js';
import { forecastScenarios } from '../helpers/forecast-world.js';
import { tempStatePath } from '../helpers/harness.js';
import { samplesOf, times } from '../helpers/history.js';

const dynamoStore = async () => {
  const { client, tableName } = await freshTable();
  return new DynamoStateStore({ client, tableName, organisation: '35802', sleep: async () => {} });
};

describe('the forecast through the real cycle (DynamoDB Local)', () => {
  forecastScenarios(dynamoStore);
});

const fenceOf = async (store: StateStore): Promise<Fence> => {
  const outcome = await store.acquireLease({ owner: 'writer', nowMs: 1_000, ttlMs: 1e12 });
  if (outcome.kind !== 'acquired') throw new Error('lease held');
  return { lease: outcome.lease };
};

describe.each([
  ['file store', async () => new FileStateStore(tempStatePath())],
  ['DynamoDB store (DynamoDB Local)', dynamoStore],
] as const)('the stage history in the %s', (_, make) => {
  it('a commit applied twice (a replay) merges its samples once; another runner reads the same history', async () => {
    const store = await make();
    const fence = await fenceOf(store);
    const samples: StageSample[] = [
      ...samplesOf({ stage: 'Sewing', supplier: 1, days: times(6, 12), next: 'Packing' }),
      ...samplesOf({ stage: 'Packing', supplier: 1, days: times(6, 2), next: '' }),
    ];
    const writes = { writes: [], checkpoint: null, history: samples, commit: { generation: 1, commit: 1 } };
    await store.applyWrites(fence, { ...writes, replay: false });
    await store.applyWrites(fence, { ...writes, replay: true });
    const read = await store.readHistory();
    expect(read.size).toBe(12);
    expect(read.expected('Sewing', 1)).toMatchObject({ ms: 12 * 86_400_000, source: 'supplier', samples: 6 });
    // Nothing new: no write at all (the next merge of the same samples finds nothing to change).
    expect(read.merge(samples)).toEqual([]);
  });

  it("stays bounded: of a thousand durations of one stage, the account's 120 most recent are kept", async () => {
    const store = await make();
    const fence = await fenceOf(store);
    for (let batch = 0; batch < 10; batch++) {
      const samples = samplesOf({
        stage: 'Sewing',
        supplier: 1,
        days: times(100, 5),
        lastEnd: Date.UTC(2026, 0, 1) + batch * 100 * 86_400_000,
      });
      await store.applyWrites(fence, {
        writes: [],
        checkpoint: null,
        history: samples,
        commit: null,
        replay: false,
      });
    }
    const read = await store.readHistory();
    expect(read.size).toBe(ACCOUNT_SAMPLES);
    expect(Math.min(...read.samples().map((s) => s.end))).toBe(
      Math.floor((Date.UTC(2026, 0, 1) + 9 * 100 * 86_400_000) / 60_000) - (ACCOUNT_SAMPLES - 1) * 1440,
    );
  });
});

describe('history shards', () => {
  it('a stage name always lands in the same one of the eight shards', () => {
    const names = [
      'Sewing',
      'Cutting',
      'Packing',
      'Washing',
      'Quality Check',
      'Knitting',
      'Linking',
      'Pressing',
    ];
    for (const name of names) {
      expect(historyShardOf(name)).toBe(historyShardOf(name));
      expect(historyShardOf(name)).toBeGreaterThanOrEqual(0);
      expect(historyShardOf(name)).toBeLessThan(HISTORY_SHARDS);
    }
    expect(new Set(names.map(historyShardOf)).size).toBeGreaterThan(1);
  });
});
