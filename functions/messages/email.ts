import type { NotifierEvent } from '../core/events/catalogue.js';
import { messageOf } from './message.js';

/** SNS takes a subject of printable ASCII, under 100 characters, without line breaks. */
const SUBJECT_MAX = 99;

/** An ASCII rendering of a title: SNS rejects other characters in a subject. */
const asciiSubject = (title: string): string => {
  const ascii = title
    .replaceAll('·', '-')
    .replaceAll('→', '->')
    .replaceAll('…', '...')
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .replace(/[^\x20-\x7e]/g, '?')
    .replace(/\s+/g, ' ')
    .trim();
  return ascii.length <= SUBJECT_MAX ? ascii : `${ascii.slice(0, SUBJECT_MAX - 3)}...`;
};

export interface Email {
  subject: string;
  body: string;
}

/** A subject that says what happened and a plain-text body of labelled lines: no JSON, no "null". */
export const emailOf = (event: NotifierEvent): Email => {
  const message = messageOf(event);
  const width = Math.max(...message.fields.map((f) => f.label.length), 0) + 2;
  const lines = [
    message.title,
    '',
    ...message.fields.map((f) => `${`${f.label}:`.padEnd(width)}${f.value}`),
    '',
    `Detected ${message.time.replace('T', ' ').slice(0, 16)} UTC (${event.detailType}, event ${event.detail.sequence} of this order).`,
    `Event id: ${event.detail.eventId}`,
  ];
  return { subject: asciiSubject(message.title), body: `${lines.join('\n')}\n` };
};
