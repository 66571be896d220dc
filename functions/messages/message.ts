import type { NotifierEvent } from '../core/events/catalogue.js';
import { plainText } from './escape.js';

/**
 * The one wording of every event, shared by the terminal, Slack, email and the example consumer: a title
 * saying what happened to which PO, a summary line, labelled fields (missing values left out, never
 * "null"), and the time of detection. Plain text: the API's strings in it pass through plainText (no
 * control characters); a format with markup escapes it for that markup (escape.ts).
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

const WORDS: Record<string, string> = {
  not_received: 'not received',
  receiving: 'partly received',
  all_received: 'all received',
  not_started: 'not started',
  in_progress: 'in progress',
};

/** A vocabulary word as people read it ("all_received" → "all received"). */
const readable = (word: string | null | undefined): string =>
  word === null || word === undefined || word === '' ? 'none' : (WORDS[word] ?? word.replaceAll('_', ' '));

const plural = (count: number, unit: string) => `${count} ${unit}${count === 1 ? '' : 's'}`;

const itemName = (item: { productName: string | null; color: string | null; id: number }): string =>
  [item.productName, item.color].filter(Boolean).join(' ') || `line item ${item.id}`;

/** What happened, after "PO 1308 · ". */
const headline = (event: NotifierEvent): string => {
  switch (event.detailType) {
    case 'OrderCreated':
      return `new order (${readable(event.detail.order.status)})`;
    case 'OrderStatusChanged':
      return `status ${readable(event.detail.change.from)} → ${readable(event.detail.change.to)}`;
    case 'OrderDeliveryStatusChanged':
      return `delivery ${readable(event.detail.change.from)} → ${readable(event.detail.change.to)}`;
    case 'OrderAllReceived':
      return 'all received';
    case 'OrderDueDateChanged':
      return `due date ${readable(event.detail.change.from)} → ${readable(event.detail.change.to)}`;
    case 'StageStarted':
      return `${event.detail.stage.name} started on ${itemName(event.detail.lineItem)}`;
    case 'StageCompleted':
      return `${event.detail.stage.name} completed on ${itemName(event.detail.lineItem)}`;
    case 'OrderRemoved':
      return 'removed from Uphance';
    case 'OrderStageCompleted': {
      const { total, completed } = event.detail.lineItems;
      const scope =
        total === 1
          ? 'its line item'
          : completed === total
            ? `all ${total} line items`
            : `${completed} of ${total} line items`;
      return `${event.detail.stage.name} completed on ${scope}`;
    }
    case 'OrderDueSoon': {
      const { days } = event.detail.due;
      const when = days === 0 ? 'due today' : days === 1 ? 'due tomorrow' : `due in ${days} days`;
      return `${when} and ${readable(event.detail.order.deliveryStatus ?? 'not_received')}`;
    }
    case 'OrderOverdue':
      return `overdue by ${plural(event.detail.due.days, 'day')} and ${readable(event.detail.order.deliveryStatus ?? 'not_received')}`;
    case 'StageStalled':
      return `${event.detail.stage.name} on ${itemName(event.detail.lineItem)} has not moved for ${plural(event.detail.stalled.days, 'day')}`;
    case 'OrderAtRisk':
      return `at risk: production ends about ${event.detail.forecast.date}, ${plural(event.detail.forecast.lateDays, 'day')} late`;
  }
};

/** "12 days", "1.5 days". */
const days = (value: number) => `${value} ${value === 1 ? 'day' : 'days'}`;

/** The day part of an API timestamp, keeping its own offset ("2025-04-26T05:51:21+01:00" → "2025-04-26 05:51"). */
const shortTime = (value: string | null): string | null =>
  value === null ? null : value.replace(/^(\d{4}-\d{2}-\d{2})T(\d{2}:\d{2}).*$/, '$1 $2');

const detailFields = (event: NotifierEvent): Array<[string, string | number | null]> => {
  switch (event.detailType) {
    case 'StageStarted':
    case 'StageCompleted':
      return [
        ['Stage', `${event.detail.stage.name} (${readable(event.detail.stage.status)})`],
        ['Line item', itemName(event.detail.lineItem)],
        ['Started', shortTime(event.detail.stage.startTime)],
        ['Ended', shortTime(event.detail.stage.endTime)],
      ];
    case 'OrderStageCompleted':
      return [
        ['Stage', event.detail.stage.name],
        ['Line items', `${event.detail.lineItems.completed} of ${event.detail.lineItems.total} completed`],
        ['Completed', shortTime(event.detail.stage.completedAt)],
      ];
    case 'StageStalled':
      return [
        ['Stage', `${event.detail.stage.name} (${readable(event.detail.stage.status)})`],
        ['Line item', itemName(event.detail.lineItem)],
        ['Started', shortTime(event.detail.stage.startTime)],
        [
          'In progress',
          `${plural(event.detail.stalled.days, 'day')} (limit ${event.detail.stalled.limitDays})`,
        ],
      ];
    case 'OrderDueSoon':
      return [['Days left', event.detail.due.days]];
    case 'OrderAtRisk': {
      const { forecast } = event.detail;
      const { stage } = forecast;
      const started = stage.startTime ? `started ${shortTime(stage.startTime)}` : 'not started';
      return [
        ['Forecast', `${forecast.date} (${plural(forecast.lateDays, 'day')} after the due date)`],
        ['Days left', event.detail.due.days],
        ['Now at', `${stage.name}, usually ${days(stage.expectedDays)}, ${started}`],
        [
          'Basis',
          forecast.basis.source === 'supplier'
            ? `this supplier's own history (at least ${forecast.basis.samples} durations a stage)`
            : `the account's history (at least ${forecast.basis.samples} durations a stage)`,
        ],
      ];
    }
    case 'OrderOverdue':
      return [['Days overdue', event.detail.due.days]];
    case 'OrderStatusChanged':
    case 'OrderDeliveryStatusChanged':
    case 'OrderDueDateChanged':
      return [['Change', `${readable(event.detail.change.from)} → ${readable(event.detail.change.to)}`]];
    default:
      return [];
  }
};

/** The readable message of an event. */
export const messageOf = (event: NotifierEvent): Message => {
  const { order } = event.detail;
  const fields: Array<[string, string | number | null]> = [
    ['Supplier', order.companyName],
    ['Season', order.seasonId],
    ['Due date', order.dueDate],
    ['Status', readable(order.status)],
    ['Delivery', order.deliveryStatus === null ? null : readable(order.deliveryStatus)],
    ...detailFields(event),
  ];
  const summary = [
    order.companyName,
    order.dueDate ? `due ${order.dueDate}` : null,
    order.deliveryStatus ? readable(order.deliveryStatus) : null,
  ]
    .filter(Boolean)
    .join(' · ');
  return {
    title: plainText(`PO ${order.number} · ${headline(event)}`),
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
