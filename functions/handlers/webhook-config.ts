import { ConfigError, parseOrganisationIds } from '../config.js';

/** The webhook endpoint's configuration, set by the stack; checked at cold start. */
export interface WebhookConfig {
  /** The Secrets Manager secret holding the webhook path secret (a plain string). */
  webhookSecretId: string;
  queueUrl: string;
  organisationIds: number[];
}

export const webhookConfig = (env: Record<string, string | undefined>): WebhookConfig => {
  const required = (name: string): string => {
    const value = env[name]?.trim();
    if (!value)
      throw new ConfigError(`${name} must be set (the stack sets it; check the function's environment)`);
    return value;
  };
  return {
    webhookSecretId: required('WEBHOOK_SECRET_ARN'),
    queueUrl: required('CHECK_QUEUE_URL'),
    organisationIds: parseOrganisationIds(env.UPHANCE_ORGANISATION_ID),
  };
};
