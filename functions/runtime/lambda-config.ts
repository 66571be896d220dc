import { DEFAULT_SOURCE } from '../core/events/catalogue.js';
import type { SignalSettings } from '../core/signals.js';
import type { CycleOptions } from '../cycle/cycle.js';
import { organisationTimes } from '../shared/lambda-times.js';
import {
  ConfigError,
  parseOrganisationIds,
  positiveInteger,
  signalSettings,
  uphanceSettings,
} from './config.js';

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
  role: RunRole = 'cycle',
): CycleOptions => {
  const times = organisationTimes(remainingMs, config.budgetMs, organisationsLeft);
  return {
    owner,
    ...times,
    ...leaseWaits(role, times.budgetMs),
    sweepIntervalMs: config.sweepIntervalMs,
    emitBaseline: config.emitBaseline,
    signals: config.signals,
  };
};

/** A scheduled cycle, or a webhook's targeted check. */
export type RunRole = 'cycle' | 'check';

/**
 * How long a function's run waits for a lease another runner holds. A scheduled cycle that meets a
 * check (a few seconds' work) waits for it rather than skip its period, and waits its turn on shared
 * credentials; a check gives way soon: its message is retried, and the cycle sees the order anyway.
 */
const leaseWaits = (role: RunRole, budgetMs: number) =>
  role === 'cycle'
    ? { leaseWaitMs: Math.min(30_000, Math.floor(budgetMs / 4)), credentialsWaitMs: Math.floor(budgetMs / 2) }
    : { leaseWaitMs: 0, credentialsWaitMs: Math.min(20_000, Math.floor(budgetMs / 4)) };
