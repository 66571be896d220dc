import type { SNSClient } from '@aws-sdk/client-sns';
import type { NotifierEvent } from '../core/events/catalogue.js';
import type { ChannelName, DigestMessage } from '../messages/channels.js';
import { CHANNELS } from '../messages/channels.js';
import { emailChannel, publishEmail } from './email-topic.js';
import { postToSlack, slackChannel, webhookUrlOf } from './slack-webhook.js';

/** The clients the transports send with. */
export interface TransportClients {
  sns: Pick<SNSClient, 'send'>;
}

/**
 * How one channel's messages travel to its destination (Slack: the webhook URL; email: the topic's ARN),
 * each made into the channel's payload by the registry (messages/channels.ts).
 */
interface Transport {
  /** The destination in the secret a `secret` target names; `variable` names the secret in an error. */
  fromSecret?: (value: unknown, variable: string) => string;
  /** Sends one event, retrying what the channel lets it retry. */
  event: (event: NotifierEvent, destination: string, clients: TransportClients) => Promise<void>;
  /** The digest's sender: it sends once (a failed run is retried by its schedule as a whole). */
  digest: (destination: string, clients: TransportClients) => (message: DigestMessage) => Promise<void>;
}

const TRANSPORTS: Record<ChannelName, Transport> = {
  slack: {
    fromSecret: webhookUrlOf,
    event: (event, url) => postToSlack(CHANNELS.slack.eventPayload(event), { url }),
    digest: (url) => slackChannel(url),
  },
  email: {
    event: (event, topicArn, { sns }) => publishEmail(sns, topicArn, CHANNELS.email.eventPayload(event)),
    digest: (topicArn, { sns }) => emailChannel(topicArn, sns),
  },
};

/**
 * A channel's destination from the target the stack gave its function (the value of `variable`): read
 * from the secret it names, or the target itself (a topic's ARN).
 */
export const destinationOf = async (
  channel: ChannelName,
  target: string,
  variable: string,
  readSecret: (arn: string) => Promise<unknown>,
): Promise<string> => {
  const { fromSecret } = TRANSPORTS[channel];
  if (CHANNELS[channel].target.resource !== 'secret') return target;
  if (!fromSecret) throw new Error(`the ${channel} channel has a secret target and no way to read it`);
  return fromSecret(await readSecret(target), variable);
};

/** Delivers one event on a channel. */
export const deliverEvent = (
  channel: ChannelName,
  event: NotifierEvent,
  destination: string,
  clients: TransportClients,
): Promise<void> => TRANSPORTS[channel].event(event, destination, clients);

/** The digest's sender on a channel (digest/job.ts's DigestChannel). */
export const digestChannel = (channel: ChannelName, destination: string, clients: TransportClients) =>
  TRANSPORTS[channel].digest(destination, clients);
