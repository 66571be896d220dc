import { apiProductionOrderSchema, toOrder } from '../functions/core/api-schema.js';
import { detectChanges, detectRemoval, firstSight } from '../functions/core/diff.js';
import type { DetailType, NotifierEvent } from '../functions/core/events/catalogue.js';
import { snapshotOf } from '../functions/core/snapshot.js';
import { stagesFixture } from '../simulator/fixtures.js';

/**
 * One example per detail-type, produced by the core itself from the vendor's order 1308, so that the
 * examples in schemas/examples and docs/events.md are real detections, not hand-written JSON.
 */
export const exampleEvents = (): Record<DetailType, NotifierEvent> => {
  const detectedAt = '2026-11-27T10:15:00.000Z';
  const base = toOrder(apiProductionOrderSchema.parse(stagesFixture().production_orders[0]));
  const found: Partial<Record<DetailType, NotifierEvent>> = {};
  const keep = (events: NotifierEvent[]) => {
    for (const e of events) found[e.detailType] ??= e;
  };
  // An order watched since it was confirmed and in Packing with nothing received.
  const before = structuredClone(base);
  before.status = 'confirmed';
  before.deliveryStatus = 'receiving';
  before.lineItems[0]!.stages[2] = { name: 'Packing', status: 'not_started', startTime: null, endTime: null };
  const started = detectChanges(snapshotOf(before, 4), base, { detectedAt });
  keep(started.events);
  const done = structuredClone(base);
  done.lineItems[0]!.stages[2] = {
    ...done.lineItems[0]!.stages[2]!,
    status: 'completed',
    endTime: '2025-04-27T09:12:40.000+01:00',
  };
  done.dueDate = '2025-05-02';
  keep(detectChanges(started.snapshot, done, { detectedAt }).events);
  keep(firstSight(base, { detectedAt, emit: true }).events);
  keep(detectRemoval(snapshotOf(base, 9), { detectedAt }).events);
  return found as Record<DetailType, NotifierEvent>;
};
