import { createHash } from 'node:crypto';
import type { Order } from './order.js';
import type { SignalSettings } from './signals.js';
import { keyedLineItems, stageMap } from './snapshot.js';

/** The signals' settings as fingerprint content: another limit or zone may fire what did not (or later). */
const settingsContent = (settings: SignalSettings | undefined): unknown =>
  settings === undefined
    ? null
    : [
        settings.timeZone,
        settings.dueSoonDays,
        settings.stallDays,
        settings.riskDays,
        Object.keys(settings.stallDaysByStage)
          .sort()
          .map((name) => [name, settings.stallDaysByStage[name]]),
      ];

/**
 * A short hash (64 bits, hex) of everything the diff and the production signals read from an order, so
 * that equal fingerprints mean that diffing the order against the snapshot stored with the fingerprint
 * finds no change and leaves that snapshot as it is (until a time-based signal is due: the index keeps
 * that time beside it). Its content: the `order` block; each line item's stages, in the API's order, by
 * stage key with their status, start and end time (a stage in progress stalls from its start, and a stall
 * fired is remembered for that start; times and the API's order make the order's stage sequence, which
 * decides a roll-up and the forecast); and the signals' settings (or their absence). Times are compared as
 * instants, as the signals compare them.
 *
 * Null when the snapshot would lose something the diff compares (two line items with one id, or stage keys
 * that collide): such an order is always diffed.
 */
export const orderFingerprint = (order: Order, settings?: SignalSettings): string | null => {
  const keyed = keyedLineItems(order);
  const stages = stageMap(order, keyed);
  if (Object.keys(stages).length !== order.lineItems.length) return null;
  const items: Array<[number, Array<[string, string, number | null, number | null]>]> = [];
  for (const [index, item] of order.lineItems.entries()) {
    const entries = keyed[index] ?? [];
    if (Object.keys(stages[String(item.id)] ?? {}).length !== entries.length) return null;
    const codes = stages[String(item.id)] ?? {};
    // In the API's order: it decides the stage sequence where times are equal or missing.
    items.push([
      item.id,
      entries.map(({ key, start, end }): [string, string, number | null, number | null] => [
        key,
        codes[key] ?? '',
        start,
        end,
      ]),
    ]);
  }
  items.sort((a, b) => a[0] - b[0]);
  const o = order;
  const content = [
    o.id,
    o.number,
    o.status,
    o.deliveryStatus,
    o.companyId,
    o.companyName,
    o.seasonId,
    o.dueDate,
    o.updatedAt,
    items,
    settingsContent(settings),
  ];
  return createHash('sha256').update(JSON.stringify(content)).digest('hex').slice(0, 16);
};

/**
 * Whether an order may be left undiffed: its index entry has its fingerprint and no time-based signal
 * is due for it at `now`.
 */
export const unchangedSince = (
  entry: { fp: string; dueAt: number | null } | undefined,
  fingerprint: string | null,
  now: number,
): boolean =>
  entry !== undefined &&
  fingerprint !== null &&
  entry.fp === fingerprint &&
  (entry.dueAt === null || entry.dueAt > now);
