import type { Logger } from '@aws-lambda-powertools/logger';
import type { SNSClient } from '@aws-sdk/client-sns';
import type { NotifierEvent } from '../core/events/catalogue.js';
import { detailSchemas } from '../core/events/catalogue.js';
import type { ChannelName } from '../messages/channels.js';
import { CHANNELS } from '../messages/channels.js';
import { deliverEvent } from './channel-transports.js';

/** Where the notify function delivers (runtime/lambda-config.ts reads it from its environment). */
export interface NotifyConfig {
  channel: ChannelName;
  /** The channel's target (messages/channels.ts): the secret holding Slack's webhook URL, the email topic. */
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

export interface NotifyDependencies {
  config: NotifyConfig;
  /** The destination in the channel's secret, for a channel whose target is one (Slack's webhook URL). */
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
  const { channel, target } = deps.config;
  const destination = CHANNELS[channel].target.resource === 'secret' ? await deps.webhookUrl() : target;
  await deliverEvent(channel, event, destination, deps);
  deps.logger.info(`delivered to ${deps.config.channel}`, log);
  return log;
};
