import { describe, expect, it } from 'vitest';
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
