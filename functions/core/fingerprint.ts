import { createHash } from 'node:crypto';
import type { Order } from './order.js';
import type { Snapshot } from './snapshot.js';
import { keyedLineItems, snapshotOf } from './snapshot.js';

/**
 * A short hash (64 bits, hex) of everything the diff reads from an order: the `order` block and each line
 * item's stage statuses by stage key, exactly what a snapshot keeps. Keys are sorted, so that the API
 * listing the same stages in another order gives the same fingerprint.
 */
export const snapshotFingerprint = (snapshot: Pick<Snapshot, 'order' | 'stages'>): string => {
  const o = snapshot.order;
  const items = Object.keys(snapshot.stages)
    .sort()
    .map((item) => {
      const codes = snapshot.stages[item] ?? {};
      return [
        item,
        Object.keys(codes)
          .sort()
          .map((key) => [key, codes[key]]),
      ];
    });
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
  ];
  return createHash('sha256').update(JSON.stringify(content)).digest('hex').slice(0, 16);
};

/**
 * The fingerprint of the snapshot this order would give: when it equals the fingerprint of the stored
 * snapshot, diffing the order against it finds no change and leaves the snapshot as it is, so the snapshot
 * need not be read. Null when the snapshot would lose something the diff compares (two line items with
 * one id, or stage keys that collide): such an order is always diffed.
 */
export const orderFingerprint = (order: Order): string | null => {
  const keyed = keyedLineItems(order);
  const snapshot = snapshotOf(order, 0, keyed);
  if (Object.keys(snapshot.stages).length !== order.lineItems.length) return null;
  for (const item of order.lineItems) {
    if (Object.keys(snapshot.stages[String(item.id)] ?? {}).length !== item.stages.length) return null;
  }
  return snapshotFingerprint(snapshot);
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
