import type { DetailByType, DetailType, NotifierEvent } from '../core/events/catalogue.js';
import { plainText } from './escape.js';
import type { Field, Wording } from './wording.js';
import { WORDING } from './wording.js';
import { readable } from './words.js';

/**
 * The one wording of every event, shared by the terminal, Slack, email and the example consumer: a title
 * saying what happened to which PO, a summary line, labelled fields (missing values left out, never
 * "null"), and the time of detection; what differs by detail-type is in wording.ts. Plain text: the API's
 * strings in it pass through plainText (no control characters); a format with markup escapes it for that
 * markup (escape.ts).
 */
export interface Message {
  /** e.g. "PO 1308 · Sewing completed on all 4 line items" */
  title: string;
  /** One line of context, e.g. "Tribal Sportswear Inc. · due 2025-05-02 · receiving" */
  summary: string;
  fields: Array<{ label: string; value: string }>;
  /** ISO instant of detection. */
  time: string;
}

/** An event's own wording (wording.ts), typed by its detail-type. */
const wordingOf = <K extends DetailType>(event: { detailType: K; detail: DetailByType[K] }) => {
  const wording: Wording<K> = WORDING[event.detailType];
  return { headline: wording.headline(event.detail), fields: wording.fields?.(event.detail) ?? [] };
};

/** The readable message of an event. */
export const messageOf = (event: NotifierEvent): Message => {
  const { order } = event.detail;
  const own = wordingOf(event);
  const fields: Field[] = [
    ['Supplier', order.companyName],
    ['Season', order.seasonId],
    ['Due date', order.dueDate],
    ['Status', readable(order.status)],
    ['Delivery', order.deliveryStatus === null ? null : readable(order.deliveryStatus)],
    ...own.fields,
  ];
  const summary = [
    order.companyName,
    order.dueDate ? `due ${order.dueDate}` : null,
    order.deliveryStatus ? readable(order.deliveryStatus) : null,
  ]
    .filter(Boolean)
    .join(' · ');
  return {
    title: plainText(`PO ${order.number} · ${own.headline}`),
    summary: plainText(summary),
    fields: fields
      .filter((entry): entry is [string, string | number] => entry[1] !== null && entry[1] !== '')
      .map(([label, value]) => ({ label, value: plainText(String(value)) })),
    time: plainText(event.detail.detectedAt),
  };
};

/** One line for a terminal or a log, e.g. "PO 1308 · Sewing completed on all 4 line items · Tribal Sportswear Inc.". */
export const lineOf = (event: NotifierEvent): string => {
  const { title } = messageOf(event);
  const company = event.detail.order.companyName;
  return company ? `${title} · ${plainText(company)}` : title;
};

/** A coloured line for a terminal: the detail-type in its colour, the event's sequence and its line. */
export const terminalLineOf = (event: NotifierEvent): string => {
  const type = `${WORDING[event.detailType].colour}${event.detailType.padEnd(27)}\x1b[0m`;
  return `${type} #${event.detail.sequence} ${lineOf(event)}`;
};
