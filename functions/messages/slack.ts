import type { NotifierEvent } from '../core/events/catalogue.js';
import { slackText } from './escape.js';
import { messageOf } from './message.js';

/** Slack's limits (Block Kit reference): header text 150, section text 3,000, field 2,000, 10 fields, 50 blocks. */
export const SLACK_LIMITS = { header: 150, text: 3_000, field: 2_000, fields: 10, blocks: 50 } as const;

const clip = (text: string, max: number): string =>
  text.length <= max ? text : `${text.slice(0, max - 1)}…`;

/** What an incoming webhook takes: text, with blocks (an event) or without (the digest). */
export interface SlackMessage {
  /** The plain fallback shown in notifications and by clients without blocks. */
  text: string;
  blocks?: Array<Record<string, unknown>>;
}

export interface SlackPayload extends SlackMessage {
  blocks: Array<Record<string, unknown>>;
}

/**
 * An incoming-webhook payload: a header, the fields, a context line with the time, and the text fallback.
 * Every mrkdwn text is escaped (slackText); the header is plain_text, which Slack never parses.
 */
export const slackPayloadOf = (event: NotifierEvent): SlackPayload => {
  const message = messageOf(event);
  const fields = message.fields.slice(0, SLACK_LIMITS.fields).map((field) => ({
    type: 'mrkdwn',
    text: clip(`*${slackText(field.label)}*\n${slackText(field.value)}`, SLACK_LIMITS.field),
  }));
  const blocks: Array<Record<string, unknown>> = [
    {
      type: 'header',
      text: { type: 'plain_text', text: clip(message.title, SLACK_LIMITS.header), emoji: false },
    },
  ];
  if (message.summary) {
    blocks.push({
      type: 'section',
      text: { type: 'mrkdwn', text: clip(slackText(message.summary), SLACK_LIMITS.text) },
    });
  }
  if (fields.length > 0) blocks.push({ type: 'section', fields });
  blocks.push({
    type: 'context',
    elements: [
      {
        type: 'mrkdwn',
        text: clip(
          slackText(
            `${event.detailType} · detected ${message.time.replace('T', ' ').slice(0, 16)} UTC · #${event.detail.sequence}`,
          ),
          SLACK_LIMITS.text,
        ),
      },
    ],
  });
  return {
    text: clip(slackText(message.title), SLACK_LIMITS.text),
    blocks: blocks.slice(0, SLACK_LIMITS.blocks),
  };
};
