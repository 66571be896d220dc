import type { NotifierEvent } from '../core/events/catalogue.js';
import { emailSubject, plainText } from './escape.js';
import { messageOf } from './message.js';

export interface Email {
  subject: string;
  body: string;
}

/**
 * A subject that says what happened and a plain-text body of labelled lines: no JSON, no "null". The
 * message's wording is plain text already (one line per value); the subject is made SNS-safe.
 */
export const emailOf = (event: NotifierEvent): Email => {
  const message = messageOf(event);
  const width = Math.max(...message.fields.map((f) => f.label.length), 0) + 2;
  const lines = [
    message.title,
    '',
    ...message.fields.map((f) => `${`${f.label}:`.padEnd(width)}${f.value}`),
    '',
    `Detected ${message.time.replace('T', ' ').slice(0, 16)} UTC (${event.detailType}, event ${event.detail.sequence} of this order).`,
    `Event id: ${plainText(event.detail.eventId)}`,
  ];
  return { subject: emailSubject(message.title), body: `${lines.join('\n')}\n` };
};
