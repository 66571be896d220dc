import type { SetAsideEvent } from '../../cycle/records.js';
import type { PendingWrite } from './items.js';
import { unpack } from './items.js';
import { ASIDE_PREFIX, asideKey } from './keys.js';
import type { Partition } from './partition.js';

/** Events the bus refused for good, one item each (`aside#<eventId>`), kept for resending. */

export const setAsidePuts = (partition: Partition, events: SetAsideEvent[]): PendingWrite[] =>
  events.map((e) => partition.put(asideKey(e.event.detail.eventId), e));

export const readSetAside = async (partition: Partition): Promise<SetAsideEvent[]> => {
  const events: SetAsideEvent[] = [];
  for await (const items of partition.query(ASIDE_PREFIX, { consistent: true })) {
    for (const item of items) events.push(unpack<SetAsideEvent>(item.data?.B as Uint8Array));
  }
  return events;
};

export const setAsideDeletes = (partition: Partition, eventIds: string[]): PendingWrite[] =>
  eventIds.map((id) => partition.delete(asideKey(id)));
