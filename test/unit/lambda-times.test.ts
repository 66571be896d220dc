import { describe, expect, it } from 'vitest';
import { functionCycleOptions, lambdaConfig } from '../../functions/runtime/lambda-config.js';
import { cycleTimes, pollTimeoutSeconds } from '../../functions/shared/lambda-times.js';

describe('the poll function’s times', () => {
  it.each([1, 2, 5, 10, 15, 60])(
    'every %i minutes: a run killed by the timeout leaves a lease that has expired before the next run',
    (minutes) => {
      const timeoutMs = pollTimeoutSeconds(minutes) * 1000;
      const times = cycleTimes(timeoutMs, 10_000_000);
      // Scheduler may start a run a few seconds early or late: keep 10 s of slack at least.
      expect(times.leaseTtlMs).toBeLessThanOrEqual(minutes * 60_000 - 10_000);
      expect(times.deadlineMs).toBeLessThan(timeoutMs);
      expect(times.budgetMs).toBeLessThan(times.deadlineMs);
      expect(times.budgetMs).toBeGreaterThan(0);
    },
  );

  it('keeps a commit reserve of at most 45 s and a fraction of short runs', () => {
    expect(cycleTimes(240_000, 10_000_000)).toEqual({
      deadlineMs: 230_000,
      budgetMs: 185_000,
      leaseTtlMs: 255_000,
    });
    expect(cycleTimes(30_000, 10_000_000)).toEqual({
      deadlineMs: 20_000,
      budgetMs: 15_000,
      leaseTtlMs: 45_000,
    });
    expect(cycleTimes(240_000, 60_000).budgetMs).toBe(60_000);
  });
});

describe('how long a function’s run waits for a lease another runner holds', () => {
  const config = lambdaConfig({
    TABLE_NAME: 't',
    EVENT_BUS_NAME: 'b',
    UPHANCE_SECRET_ARN: 's',
  });

  it('a scheduled cycle that meets a check waits briefly for it, and for its turn on the credentials', () => {
    const options = functionCycleOptions(config, 'request', 240_000, 1, 'cycle');
    expect(options.leaseWaitMs).toBe(30_000);
    expect(options.credentialsWaitMs).toBeGreaterThan(options.leaseWaitMs ?? 0);
    // Both within the budget, so that the cycle still has its time to fetch and commit.
    expect(options.credentialsWaitMs).toBeLessThan(options.budgetMs);
    expect(functionCycleOptions(config, 'request', 40_000, 1, 'cycle').leaseWaitMs).toBeLessThan(10_000);
  });

  it('a check gives way: it does not wait for the state, and briefly for the credentials', () => {
    const options = functionCycleOptions(config, 'request', 90_000, 1, 'check');
    expect(options.leaseWaitMs).toBe(0);
    expect(options.credentialsWaitMs).toBeGreaterThan(0);
    expect(options.credentialsWaitMs).toBeLessThanOrEqual(20_000);
  });
});
