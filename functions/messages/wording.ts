import type { DetailByType, DetailType } from '../core/events/catalogue.js';
import { days, itemName, plural, readable, shortTime } from './words.js';

/** A labelled value of a message; a null or empty value is left out. */
export type Field = [label: string, value: string | number | null];

/** How the messages of one detail-type read (message.ts puts them together). */
export interface Wording<K extends DetailType> {
  /** What happened, after "PO 1308 · ". */
  headline: (detail: DetailByType[K]) => string;
  /** Its own fields, after the order's; none when absent. */
  fields?: (detail: DetailByType[K]) => Field[];
  /** The ANSI colour of its line on a terminal (the CLI's pretty output). */
  colour: string;
}

const CYAN = '\x1b[36m';
const YELLOW = '\x1b[33m';
const GREEN = '\x1b[32m';
const RED = '\x1b[31m';
const MAGENTA = '\x1b[35m';
const BOLD_YELLOW = '\x1b[33;1m';
const BOLD_GREEN = '\x1b[32;1m';
const BOLD_RED = '\x1b[31;1m';
const BOLD_MAGENTA = '\x1b[35;1m';

type Change = { from: string | null; to: string | null };
const arrow = (change: Change) => `${readable(change.from)} → ${readable(change.to)}`;
const changeFields = (detail: { change: Change }): Field[] => [['Change', arrow(detail.change)]];

const stageFields = (detail: DetailByType['StageStarted' | 'StageCompleted']): Field[] => [
  ['Stage', `${detail.stage.name} (${readable(detail.stage.status)})`],
  ['Line item', itemName(detail.lineItem)],
  ['Started', shortTime(detail.stage.startTime)],
  ['Ended', shortTime(detail.stage.endTime)],
];

/** Delivery as the due-date signals say it; an order with none yet counts as not received. */
const delivery = (detail: { order: { deliveryStatus: string | null } }) =>
  readable(detail.order.deliveryStatus ?? 'not_received');

/**
 * The wording of every detail-type: one entry each, typed by its detail, so that a detail-type of the
 * catalogue without its wording does not compile.
 */
export const WORDING: { [K in DetailType]: Wording<K> } = {
  OrderCreated: {
    headline: (d) => `new order (${readable(d.order.status)})`,
    colour: CYAN,
  },
  OrderStatusChanged: {
    headline: (d) => `status ${arrow(d.change)}`,
    fields: changeFields,
    colour: MAGENTA,
  },
  OrderDeliveryStatusChanged: {
    headline: (d) => `delivery ${arrow(d.change)}`,
    fields: changeFields,
    colour: MAGENTA,
  },
  OrderAllReceived: {
    headline: () => 'all received',
    colour: BOLD_GREEN,
  },
  OrderDueDateChanged: {
    headline: (d) => `due date ${arrow(d.change)}`,
    fields: changeFields,
    colour: MAGENTA,
  },
  StageStarted: {
    headline: (d) => `${d.stage.name} started on ${itemName(d.lineItem)}`,
    fields: stageFields,
    colour: YELLOW,
  },
  StageCompleted: {
    headline: (d) => `${d.stage.name} completed on ${itemName(d.lineItem)}`,
    fields: stageFields,
    colour: GREEN,
  },
  OrderRemoved: {
    headline: () => 'removed from Uphance',
    colour: RED,
  },
  OrderStageCompleted: {
    headline: (d) => {
      const { total, completed } = d.lineItems;
      const scope =
        total === 1
          ? 'its line item'
          : completed === total
            ? `all ${total} line items`
            : `${completed} of ${total} line items`;
      return `${d.stage.name} completed on ${scope}`;
    },
    fields: (d) => [
      ['Stage', d.stage.name],
      ['Line items', `${d.lineItems.completed} of ${d.lineItems.total} completed`],
      ['Completed', shortTime(d.stage.completedAt)],
    ],
    colour: BOLD_GREEN,
  },
  OrderDueSoon: {
    headline: (d) => {
      const left = d.due.days;
      const when = left === 0 ? 'due today' : left === 1 ? 'due tomorrow' : `due in ${left} days`;
      return `${when} and ${delivery(d)}`;
    },
    fields: (d) => [['Days left', d.due.days]],
    colour: BOLD_YELLOW,
  },
  OrderOverdue: {
    headline: (d) => `overdue by ${plural(d.due.days, 'day')} and ${delivery(d)}`,
    fields: (d) => [['Days overdue', d.due.days]],
    colour: BOLD_RED,
  },
  StageStalled: {
    headline: (d) =>
      `${d.stage.name} on ${itemName(d.lineItem)} has not moved for ${plural(d.stalled.days, 'day')}`,
    fields: (d) => [
      ['Stage', `${d.stage.name} (${readable(d.stage.status)})`],
      ['Line item', itemName(d.lineItem)],
      ['Started', shortTime(d.stage.startTime)],
      ['In progress', `${plural(d.stalled.days, 'day')} (limit ${d.stalled.limitDays})`],
    ],
    colour: RED,
  },
  OrderAtRisk: {
    headline: (d) =>
      `at risk: production ends about ${d.forecast.date}, ${plural(d.forecast.lateDays, 'day')} late`,
    fields: (d) => {
      const { forecast } = d;
      const { stage } = forecast;
      const started = stage.startTime ? `started ${shortTime(stage.startTime)}` : 'not started';
      return [
        ['Forecast', `${forecast.date} (${plural(forecast.lateDays, 'day')} after the due date)`],
        ['Days left', d.due.days],
        ['Now at', `${stage.name}, usually ${days(stage.expectedDays)}, ${started}`],
        [
          'Basis',
          forecast.basis.source === 'supplier'
            ? `this supplier's own history (at least ${forecast.basis.samples} durations a stage)`
            : `the account's history (at least ${forecast.basis.samples} durations a stage)`,
        ],
      ];
    },
    colour: BOLD_MAGENTA,
  },
};
