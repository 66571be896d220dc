import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  costTable,
  DEFAULT_DEPLOYMENT,
  FIVE_MINUTE_CYCLES,
  LAMBDA_LOG_BYTES,
  monthlyCost,
  naiveMonth,
  notifierMonth,
} from '../../bench/cost-model.js';
import { PRICES } from '../../bench/prices.js';

const noDispatch = { wallMs: 0, readUnits: 0, writeUnits: 0, logBytes: 0 };
const quiet = { wallMs: 1_000, readUnits: 10, writeUnits: 2, putEventsEntries: 0, logBytes: 650 };

describe('the monthly cost model', () => {
  it('prices the worker: Lambda GB-seconds and requests, request units, events', () => {
    const cost = monthlyCost(
      [
        {
          cycle: { wallMs: 1_000, readUnits: 100, writeUnits: 10, putEventsEntries: 2 },
          perMonth: 1_000_000,
        },
      ],
      { ...DEFAULT_DEPLOYMENT, cyclesPerMonth: 1_000_000 },
      PRICES,
      { dispatch: noDispatch },
    );
    // 1 s × 0.5 GB × 1M = 500,000 GB-s; 1M worker requests and 1M dispatcher requests.
    expect(cost.lambda).toBeCloseTo(500_000 * PRICES.lambda.armGbSecond + 0.4, 6);
    expect(cost.dynamodb).toBeCloseTo(100 * 0.125 + 10 * 0.625, 6);
    expect(cost.putEvents).toBeCloseTo(2, 6);
    expect(cost.scheduler).toBeCloseTo(1, 6);
    expect(cost.total).toBeCloseTo(
      cost.lambda +
        cost.dynamodb +
        cost.putEvents +
        cost.sqs +
        cost.scheduler +
        cost.secretsManager +
        cost.cloudwatch +
        cost.xray,
      9,
    );
    expect(costTable([{ label: '1,000', cost }])).toMatch(
      /^\| orders \| Lambda .*\| SQS .*\n\| --- .*\n\| 1,000 \| \$/,
    );
  });

  it('grows the traffic with the organisations and keeps the alarms and metrics fixed', () => {
    const month = notifierMonth(quiet, quiet);
    const one = monthlyCost(month, DEFAULT_DEPLOYMENT, PRICES, { organisations: 1, dispatch: noDispatch });
    const thousand = monthlyCost(month, DEFAULT_DEPLOYMENT, PRICES, {
      organisations: 1_000,
      dispatch: noDispatch,
    });
    expect(thousand.dynamodb).toBeCloseTo(one.dynamodb * 1_000, 6);
    // CloudWatch: the same 23 metrics and 11 alarms; only the logs grow.
    const fixed = 23 * PRICES.cloudwatch.metricMonth + 11 * PRICES.cloudwatch.alarmMonth;
    const logs = (n: number) =>
      ((n * FIVE_MINUTE_CYCLES * (650 + LAMBDA_LOG_BYTES) + FIVE_MINUTE_CYCLES * LAMBDA_LOG_BYTES) / 1e9) *
      PRICES.cloudwatch.logsIngestedGb;
    expect(one.cloudwatch).toBeCloseTo(fixed + logs(1), 9);
    expect(thousand.cloudwatch).toBeCloseTo(fixed + logs(1_000), 9);
    // A failing organisation has a metric of its own, a healthy one none.
    expect(
      monthlyCost(month, DEFAULT_DEPLOYMENT, PRICES, {
        organisations: 1_000,
        dispatch: noDispatch,
        failingOrganisations: 3,
      }).cloudwatch - thousand.cloudwatch,
    ).toBeCloseTo(3 * PRICES.cloudwatch.metricMonth, 9);
    // SQS: ⌈n/10⌉ batches a period, a receive and a delete per message, five idle long-pollers.
    const sqsRequests = FIVE_MINUTE_CYCLES * (100 + 2_000) + (5 * (30 * 24 * 3600)) / 20;
    expect(thousand.sqs).toBeCloseTo(sqsRequests * PRICES.sqs.fifoRequest, 9);
    // Secrets: the dispatcher and each of at most ten warm workers once per 5-minute cache.
    expect(thousand.secretsManager).toBeCloseTo(
      0.4 + FIVE_MINUTE_CYCLES * 11 * PRICES.secretsManager.apiCall,
      9,
    );
    expect(one.secretsManager).toBeCloseTo(0.4 + FIVE_MINUTE_CYCLES * 2 * PRICES.secretsManager.apiCall, 9);
  });

  it('samples X-Ray traces as its default rule does: one a second, then 5%', () => {
    const month = notifierMonth(quiet, quiet);
    const few = monthlyCost(month, DEFAULT_DEPLOYMENT, PRICES, { organisations: 10, dispatch: noDispatch });
    // 11 invocations a period, under one a second: every one traced.
    expect(few.xray).toBeCloseTo(11 * FIVE_MINUTE_CYCLES * PRICES.xray.traceRecorded, 9);
    const many = monthlyCost(month, DEFAULT_DEPLOYMENT, PRICES, {
      organisations: 1_000,
      dispatch: noDispatch,
    });
    const perSecond = (1_001 * FIVE_MINUTE_CYCLES) / (30 * 24 * 3600);
    expect(many.xray).toBeCloseTo(
      30 * 24 * 3600 * (1 + 0.05 * (perSecond - 1)) * PRICES.xray.traceRecorded,
      6,
    );
  });

  it('a month is 8,610 ordinary cycles and 30 sweeping ones; a naive month is all full reads and writes', () => {
    expect(FIVE_MINUTE_CYCLES).toBe(8_640);
    const small = { wallMs: 100, readUnits: 1, writeUnits: 1, putEventsEntries: 0 };
    const big = { wallMs: 10_000, readUnits: 1_000, writeUnits: 1_000, putEventsEntries: 0 };
    const mix = notifierMonth(small, big);
    expect(mix.map((m) => m.perMonth)).toEqual([8_610, 30]);
    expect(monthlyCost(mix).total).toBeLessThan(monthlyCost(naiveMonth(big)).total);
    expect(
      monthlyCost(naiveMonth(big), DEFAULT_DEPLOYMENT, PRICES, { dispatch: noDispatch }).dynamodb,
    ).toBeCloseTo((8_640 * 1_000 * (0.125 + 0.625)) / 1e6, 9);
  });

  it('counts the custom metrics the dispatcher and the poll worker really emit', () => {
    const source = ['dispatch.ts', 'poll-worker.ts']
      .map((file) => readFileSync(resolve(import.meta.dirname, '../../functions/handlers', file), 'utf8'))
      .join('\n');
    const names = new Set([...source.matchAll(/METRIC\.(\w+)/g)].map((m) => m[1]));
    expect(names.size).toBe(DEFAULT_DEPLOYMENT.customMetrics);
  });
});
