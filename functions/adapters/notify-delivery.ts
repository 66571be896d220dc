import type { Logger } from '@aws-lambda-powertools/logger';
import type { SNSClient } from '@aws-sdk/client-sns';
import { PublishCommand } from '@aws-sdk/client-sns';
import type { NotifierEvent } from '../core/events/catalogue.js';
import { detailSchemas } from '../core/events/catalogue.js';
import { emailOf } from '../messages/email.js';
import { slackPayloadOf } from '../messages/slack.js';
import { ConfigError } from '../shared/config-error.js';
import { postToSlack } from './slack-webhook.js';

/** Where the notify function delivers (runtime/lambda-config.ts reads it from its environment). */
export interface NotifyConfig {
  channel: 'slack' | 'email';
  /** slack: the secret holding the webhook URL; email: the topic. */
  target: string;
}

interface Envelope {
  'detail-type': string;
  detail: unknown;
}

/** The event as the catalogue types it; a detail-type it does not know, or a bad detail, is an error. */
export const parseEnvelope = (envelope: Envelope): NotifierEvent => {
  const type = envelope['detail-type'] as keyof typeof detailSchemas;
  const schema = detailSchemas[type];
  if (!schema)
    throw new Error(`no message for detail-type "${String(envelope['detail-type']).slice(0, 60)}"`);
  return { detailType: type, detail: schema.parse(envelope.detail) } as NotifierEvent;
};

/** The webhook URL from its secret: a plain string or {"url": "..."}. */
export const webhookUrlOf = (secret: unknown, secretName: string): string => {
  let value = typeof secret === 'string' ? secret.trim() : '';
  if (value.startsWith('{')) {
    try {
      value = String((JSON.parse(value) as { url?: unknown }).url ?? '');
    } catch {
      value = '';
    }
  }
  if (!/^https:\/\/\S+$/.test(value) || !URL.canParse(value)) {
    throw new ConfigError(
      `the secret ${secretName} holds no Slack webhook URL: put the https://hooks.slack.com/services/... URL into it`,
    );
  }
  return value;
};

export interface NotifyDependencies {
  config: NotifyConfig;
  webhookUrl: () => Promise<string>;
  sns: Pick<SNSClient, 'send'>;
  logger: Pick<Logger, 'info'>;
}

/** Delivers one event on the configured channel. */
export const notify = async (envelope: Envelope, deps: NotifyDependencies) => {
  const event = parseEnvelope(envelope);
  const log = {
    eventId: event.detail.eventId,
    detailType: event.detailType,
    sequence: event.detail.sequence,
  };
  if (deps.config.channel === 'slack') {
    await postToSlack(slackPayloadOf(event), { url: await deps.webhookUrl() });
  } else {
    const email = emailOf(event);
    await deps.sns.send(
      new PublishCommand({ TopicArn: deps.config.target, Subject: email.subject, Message: email.body }),
    );
  }
  deps.logger.info(`delivered to ${deps.config.channel}`, log);
  return log;
};
