import type { NotifyConfig } from '../adapters/notify-delivery.js';
import { DEFAULT_SOURCE } from '../core/events/catalogue.js';
import type { SignalSettings } from '../core/signals.js';
import type { CycleOptions } from '../cycle/cycle.js';
import type { ChannelName } from '../messages/channels.js';
import { CHANNEL_NAMES, CHANNELS } from '../messages/channels.js';
import { organisationTimes } from '../shared/lambda-times.js';
import {
  ConfigError,
  parseOrganisationIds,
  positiveInteger,
  signalSettings,
  uphanceSettings,
} from './config.js';

type Env = Record<string, string | undefined>;

/**
 * The configuration of the functions that run cycles (poll worker, check), set by the stack; checked at
 * cold start, as every function's settings here (a bad one is reported by each invocation, naming it).
 */
export interface LambdaConfig {
  tableName: string;
  eventBusName: string;
  secretId: string;
  apiUrl: string;
  organisationId: number | undefined;
  /** The organisations the deployment names (UPHANCE_ORGANISATION_ID="35802,35803"), besides the registry's. */
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

/**
 * A function's settings read once at cold start from its environment, or why they could not be: the
 * handler reports the error at each invocation (an exception at import would record no metric).
 */
export const readAtColdStart = <Config>(
  read: (env: Env) => Config,
): { config: Config } | { error: Error } => {
  try {
    return { config: read(process.env) };
  } catch (error) {
    return { error: error as Error };
  }
};

const required = (env: Env, name: string): string => {
  const value = env[name]?.trim();
  if (!value)
    throw new ConfigError(`${name} must be set (the stack sets it; check the function's environment)`);
  return value;
};

/** Reads the environment; a bad or missing value fails the cold start with a message naming it. */
export const lambdaConfig = (env: Env): LambdaConfig => {
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

export const dispatchConfig = (env: Env): DispatchConfig => {
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

/** The webhook endpoint's configuration, set by the stack; checked at cold start. */
export interface WebhookConfig {
  /** The Secrets Manager secret holding the webhook path secret (a plain string). */
  webhookSecretId: string;
  queueUrl: string;
}

/**
 * The endpoint needs no list of organisations: a webhook naming one is queued in that organisation's
 * group and the check function, which knows the organisations (configured or registered), judges it.
 */
export const webhookConfig = (env: Env): WebhookConfig => ({
  webhookSecretId: required(env, 'WEBHOOK_SECRET_ARN'),
  queueUrl: required(env, 'CHECK_QUEUE_URL'),
});

/** The check function's queue (it fans a webhook naming no organisation out to each one's group). */
export const checkQueueUrl = (env: Env): string => required(env, 'CHECK_QUEUE_URL');

export interface DigestConfig {
  tableName: string;
  /** The organisations the deployment names (UPHANCE_ORGANISATION_ID): with the registry's, one digest each. */
  organisationIds: number[];
  /**
   * Each channel's target the stack set (messages/channels.ts: its digest variable): Slack's secret
   * holding the incoming-webhook URL (plain or {"url": "..."}, read at each run), the email topic.
   */
  targets: Partial<Record<ChannelName, string>>;
  whenEmpty: boolean;
}

/** The digest function's settings from the environment the stack sets; a bad one is named. */
export const digestConfig = (env: Env): DigestConfig => {
  if (!env.TABLE_NAME) throw new ConfigError('TABLE_NAME is not set');
  const whenEmpty = env.DIGEST_WHEN_EMPTY ?? 'false';
  if (whenEmpty !== 'true' && whenEmpty !== 'false')
    throw new ConfigError(`DIGEST_WHEN_EMPTY must be true or false, got "${whenEmpty}"`);
  return {
    tableName: env.TABLE_NAME,
    organisationIds: parseOrganisationIds(env.UPHANCE_ORGANISATION_ID),
    targets: Object.fromEntries(
      CHANNEL_NAMES.flatMap((channel) => {
        const target = env[CHANNELS[channel].target.digestVariable]?.trim();
        return target ? [[channel, target]] : [];
      }),
    ),
    whenEmpty: whenEmpty === 'true',
  };
};

/** The notify function's channel and where it delivers, set by the stack's subscription. */
export const notifyConfig = (env: Env): NotifyConfig => {
  const name = env.NOTIFY_CHANNEL?.trim();
  const channel = CHANNEL_NAMES.find((known) => known === name);
  const target = channel && env[CHANNELS[channel].target.notifyVariable]?.trim();
  if (channel && target) return { channel, target };
  const choices = CHANNEL_NAMES.map((known) => `${known} (with ${CHANNELS[known].target.notifyVariable})`);
  throw new ConfigError(`NOTIFY_CHANNEL must be ${choices.join(' or ')}; the stack sets them`);
};
