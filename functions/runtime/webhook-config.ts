import { ConfigError } from './config.js';

/** The webhook endpoint's configuration, set by the stack; checked at cold start. */
export interface WebhookConfig {
  /** The Secrets Manager secret holding the webhook path secret (a plain string). */
  webhookSecretId: string;
  queueUrl: string;
}

const required = (env: Record<string, string | undefined>, name: string): string => {
  const value = env[name]?.trim();
  if (!value)
    throw new ConfigError(`${name} must be set (the stack sets it; check the function's environment)`);
  return value;
};

/**
 * The endpoint needs no list of organisations: a webhook naming one is queued in that organisation's
 * group and the check function, which knows the organisations (configured or registered), judges it.
 */
export const webhookConfig = (env: Record<string, string | undefined>): WebhookConfig => ({
  webhookSecretId: required(env, 'WEBHOOK_SECRET_ARN'),
  queueUrl: required(env, 'CHECK_QUEUE_URL'),
});

/** The check function's queue (it fans a webhook naming no organisation out to each one's group). */
export const checkQueueUrl = (env: Record<string, string | undefined>): string =>
  required(env, 'CHECK_QUEUE_URL');
