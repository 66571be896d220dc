/**
 * The poll function's time rules, pure: its timeout for a schedule period (read by the stack) and a
 * cycle's deadline, budget and lease from what is left of an invocation (read by the handlers).
 */

/** Time the commit may take after fetching stops, at most. */
const COMMIT_RESERVE_MS = 45_000;
/** Kept free before the Lambda timeout, so that the cycle ends (and releases its lease) on its own. */
const SAFETY_MS = 10_000;
/** The lease outlives the invocation by this much: a run killed by the timeout frees it right after. */
const LEASE_MARGIN_MS = 15_000;

/**
 * The cycle's times from what is left of the invocation: the hard deadline before the timeout, the fetch
 * budget a commit reserve before that (capped by the configured budget), and a lease that lasts just
 * beyond the function timeout, so that the next scheduled run (the stack keeps the timeout below the
 * schedule's period) finds it expired and recovers whatever a timed-out run left.
 */
export const cycleTimes = (remainingMs: number, budgetMs: number) => {
  const deadlineMs = Math.max(1_000, remainingMs - SAFETY_MS);
  const reserve = Math.min(COMMIT_RESERVE_MS, Math.floor(deadlineMs / 4));
  return {
    deadlineMs,
    budgetMs: Math.max(1_000, Math.min(budgetMs, deadlineMs - reserve)),
    leaseTtlMs: remainingMs + LEASE_MARGIN_MS,
  };
};

/**
 * The poll function's timeout for a schedule period: a minute short of it (at least 30 s, at most 10
 * minutes), so that the lease of a run the timeout killed (it lasts LEASE_MARGIN_MS beyond the timeout)
 * has expired when the next scheduled run starts, even when that run starts a little early.
 */
export const pollTimeoutSeconds = (scheduleMinutes: number): number =>
  Math.min(600, Math.max(30, scheduleMinutes * 60 - 60));

/**
 * The times of one organisation's cycle when `left` organisations (this one included) still have to run
 * in this invocation: each gets a fair share of what is left (what an earlier one did not use goes to the
 * later ones); an organisation its share cuts short resumes at the next run. The lease lasts beyond the
 * whole invocation, as with one organisation.
 */
export const organisationTimes = (remainingMs: number, budgetMs: number, left: number) => {
  if (left <= 1) return cycleTimes(remainingMs, budgetMs);
  const deadlineMs = Math.max(1_000, Math.floor((remainingMs - SAFETY_MS) / left));
  const reserve = Math.min(COMMIT_RESERVE_MS, Math.floor(deadlineMs / 4));
  return {
    deadlineMs,
    budgetMs: Math.max(500, Math.min(budgetMs, deadlineMs - reserve)),
    leaseTtlMs: remainingMs + LEASE_MARGIN_MS,
  };
};
