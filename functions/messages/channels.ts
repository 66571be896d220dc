import type { DetailType, NotifierEvent } from '../core/events/catalogue.js';
import type { Email } from './email.js';
import { emailOf } from './email.js';
import { emailSubject, slackText } from './escape.js';
import type { SlackMessage } from './slack.js';
import { slackPayloadOf } from './slack.js';

/** The digest as it leaves the digest job: a subject and plain text (digest/digest.ts). */
export interface DigestMessage {
  subject: string;
  text: string;
}

/** What each channel's messages are made into. */
export interface ChannelPayloads {
  slack: SlackMessage;
  email: Email;
}

export type ChannelName = keyof ChannelPayloads;

/** Where the stack puts a channel's destination, and the variables under which its functions find it. */
interface ChannelTarget {
  /**
   * `secret`: a Secrets Manager secret holds the destination (a credential, such as Slack's webhook URL);
   * `topic`: an SNS topic that the stack creates, its ARN the destination.
   */
  resource: 'secret' | 'topic';
  /** The notify function's variable holding the secret's or the topic's ARN. */
  notifyVariable: string;
  /** The digest function's. */
  digestVariable: string;
}

/**
 * One channel, named by its key (NOTIFY_CHANNEL's value, the word in logs and rule descriptions): how
 * events and the digest become its payload, and what the stack makes for it.
 */
export interface Channel<P> {
  eventPayload: (event: NotifierEvent) => P;
  digestPayload: (digest: DigestMessage) => P;
  /** The detail-types its subscription gets when it names none. */
  defaultDetailTypes: readonly DetailType[];
  target: ChannelTarget;
}

/** What a production team acts on; the per-line-item events stay available by configuration. */
const PRODUCTION_TEAM_TYPES: readonly DetailType[] = [
  'OrderStageCompleted',
  'OrderAllReceived',
  'OrderOverdue',
  'StageStalled',
  'OrderAtRisk',
];

/**
 * The channels, in the order the digest sends to them. The notify function (adapters/notify-delivery.ts),
 * the digest (runtime/digest.ts) and the stack (infra/constructs/subscriptions.ts) read them; how a payload
 * travels is each channel's transport (adapters/channel-transports.ts).
 */
export const CHANNELS: { readonly [C in ChannelName]: Channel<ChannelPayloads[C]> } = {
  slack: {
    eventPayload: slackPayloadOf,
    // The digest is plain text: escaped for mrkdwn, so that a supplier named `<!channel>` pings no one.
    digestPayload: ({ text }) => ({ text: slackText(text) }),
    defaultDetailTypes: PRODUCTION_TEAM_TYPES,
    target: {
      resource: 'secret',
      notifyVariable: 'SLACK_WEBHOOK_SECRET_ARN',
      digestVariable: 'SLACK_WEBHOOK_SECRET_ARN',
    },
  },
  email: {
    eventPayload: emailOf,
    // SNS takes a subject of one line of printable ASCII under 100 characters.
    digestPayload: ({ subject, text }) => ({ subject: emailSubject(subject), body: text }),
    defaultDetailTypes: PRODUCTION_TEAM_TYPES,
    target: { resource: 'topic', notifyVariable: 'EMAIL_TOPIC_ARN', digestVariable: 'DIGEST_TOPIC_ARN' },
  },
};

export const CHANNEL_NAMES = Object.keys(CHANNELS) as ChannelName[];
