import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  costTable,
  DEFAULT_DEPLOYMENT,
  FIVE_MINUTE_CYCLES,
  monthlyCost,
  naiveMonth,
  notifierMonth,
} from '../../bench/cost-model.js';
import { PRICES } from '../../bench/prices.js';

describe('the monthly cost model', () => {
  it('prices a cycle: Lambda GB-seconds and requests, request units, events, and the fixed parts', () => {
    expect(FIVE_MINUTE_CYCLES).toBe(8_640);
    const cost = monthlyCost(
      [
        {
          cycle: { wallMs: 1_000, readUnits: 100, writeUnits: 10, putEventsEntries: 2 },
          perMonth: 1_000_000,
        },
      ],
      { ...DEFAULT_DEPLOYMENT, cyclesPerMonth: 1_000_000 },
    );
    // 1 s × 0.5 GB × 1M = 500,000 GB-s; 1M requests.
    expect(cost.lambda).toBeCloseTo(500_000 * PRICES.lambda.armGbSecond + 0.2, 6);
    expect(cost.dynamodb).toBeCloseTo(100 * 0.125 + 10 * 0.625, 6);
    expect(cost.putEvents).toBeCloseTo(2, 6);
    expect(cost.scheduler).toBeCloseTo(1, 6);
    expect(cost.secretsManager).toBeCloseTo(0.4 + 5, 6);
    expect(cost.cloudwatch).toBeCloseTo(19 * 0.3 + 6 * 0.1, 6);
    expect(cost.total).toBeCloseTo(
      cost.lambda + cost.dynamodb + cost.putEvents + cost.scheduler + cost.secretsManager + cost.cloudwatch,
      9,
    );
    expect(costTable([{ label: '1,000', cost }])).toMatch(
      /^\| orders \| Lambda .*\n\| --- .*\n\| 1,000 \| \$/,
    );
  });

  it('a month is 8,610 ordinary cycles and 30 sweeping ones; a naive month is all full reads and writes', () => {
    const small = { wallMs: 100, readUnits: 1, writeUnits: 1, putEventsEntries: 0 };
    const big = { wallMs: 10_000, readUnits: 1_000, writeUnits: 1_000, putEventsEntries: 0 };
    const mix = notifierMonth(small, big);
    expect(mix.map((m) => m.perMonth)).toEqual([8_610, 30]);
    expect(monthlyCost(mix).total).toBeLessThan(monthlyCost(naiveMonth(big)).total);
    expect(monthlyCost(naiveMonth(big)).dynamodb).toBeCloseTo((8_640 * 1_000 * (0.125 + 0.625)) / 1e6, 9);
  });

  it('counts the custom metrics the poll handler really emits', () => {
    const handler = readFileSync(resolve(import.meta.dirname, '../../functions/handlers/poll.ts'), 'utf8');
    const names = new Set([...handler.matchAll(/METRIC\.(\w+)/g)].map((m) => m[1]));
    expect(names.size).toBe(DEFAULT_DEPLOYMENT.customMetrics);
  });
});
