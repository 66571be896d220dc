import {
  ConfigError,
  parseOrganisationIds,
  positiveInteger,
  signalSettings,
  uphanceSettings,
} from '../config.js';
import { DEFAULT_SOURCE } from '../core/events/catalogue.js';
import type { SignalSettings } from '../core/signals.js';
import type { CycleOptions } from '../cycle/cycle.js';

/** The poll function's configuration, set by the stack; checked at cold start. */
export interface LambdaConfig {
  tableName: string;
  eventBusName: string;
  secretId: string;
  apiUrl: string;
  organisationId: number | undefined;
  /** Every organisation polled, in turn (UPHANCE_ORGANISATION_ID="35802,35803"). */
  organisationIds: number[];
  source: string;
  budgetMs: number;
  sweepIntervalMs: number;
  emitBaseline: boolean;
  requestTimeoutMs: number;
  signals: SignalSettings;
  /** The poll queue (poll worker): a message whose lease is held is handed back to it for a short while. */
  pollQueueUrl: string | undefined;
}

const required = (env: Record<string, string | undefined>, name: string): string => {
  const value = env[name]?.trim();
  if (!value)
    throw new ConfigError(`${name} must be set (the stack sets it; check the function's environment)`);
  return value;
};

/** Reads the environment; a bad or missing value fails the cold start with a message naming it. */
export const lambdaConfig = (env: Record<string, string | undefined>): LambdaConfig => {
  const uphance = uphanceSettings(env);
  const emit = env.EMIT_BASELINE?.trim().toLowerCase() ?? 'false';
  if (!['true', 'false'].includes(emit))
    throw new ConfigError(`EMIT_BASELINE must be true or false, got "${emit}"`);
  return {
    tableName: required(env, 'TABLE_NAME'),
    eventBusName: required(env, 'EVENT_BUS_NAME'),
    secretId: required(env, 'UPHANCE_SECRET_ARN'),
    apiUrl: uphance.apiUrl,
    organisationId: uphance.organisationId,
    organisationIds: uphance.organisationIds,
    source: env.EVENT_SOURCE?.trim() || DEFAULT_SOURCE,
    budgetMs: positiveInteger(env, 'CYCLE_BUDGET_SECONDS', 240) * 1000,
    sweepIntervalMs: positiveInteger(env, 'SWEEP_INTERVAL_HOURS', 24) * 3_600_000,
    emitBaseline: emit === 'true',
    requestTimeoutMs: positiveInteger(env, 'UPHANCE_TIMEOUT_MS', 20_000),
    signals: signalSettings(env),
    pollQueueUrl: env.POLL_QUEUE_URL?.trim() || undefined,
  };
};

/** The dispatcher's configuration, set by the stack; checked at cold start. */
export interface DispatchConfig {
  tableName: string;
  secretId: string;
  queueUrl: string;
  /** The deployment's organisationIds: polled with the registry's (less those removed). */
  seed: number[];
  periodMs: number;
  /** An organisation without a completed cycle for this long is counted stale (the heartbeat). */
  staleAfterMs: number;
}

export const dispatchConfig = (env: Record<string, string | undefined>): DispatchConfig => {
  const periodMs = positiveInteger(env, 'SCHEDULE_MINUTES', 5) * 60_000;
  return {
    tableName: required(env, 'TABLE_NAME'),
    secretId: required(env, 'UPHANCE_SECRET_ARN'),
    queueUrl: required(env, 'POLL_QUEUE_URL'),
    seed: parseOrganisationIds(env.UPHANCE_ORGANISATION_ID),
    periodMs,
    staleAfterMs: positiveInteger(env, 'HEARTBEAT_INTERVALS', 3) * periodMs,
  };
};

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

/**
 * The options of a cycle or a targeted check run by a function: one place, so that the scheduled cycle and
 * the webhook check diff with the same rules (a check without the signals' settings would record a change
 * and leave its roll-up and due-date signals unsent).
 */
export const functionCycleOptions = (
  config: LambdaConfig,
  owner: string,
  remainingMs: number,
  organisationsLeft: number,
): CycleOptions => ({
  owner,
  ...organisationTimes(remainingMs, config.budgetMs, organisationsLeft),
  sweepIntervalMs: config.sweepIntervalMs,
  emitBaseline: config.emitBaseline,
  signals: config.signals,
});
