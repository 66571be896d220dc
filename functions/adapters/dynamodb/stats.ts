import type { ConsumedCapacity } from '@aws-sdk/client-dynamodb';
import type { LeaseMeter } from './lease.js';

/** Requests and capacity this store used: for metrics and the benchmark. */
export interface DynamoStats {
  reads: number;
  writes: number;
  batchGets: number;
  /** Items returned by GetItem, BatchGetItem and Query (what a cycle reads, whatever the calls). */
  itemsRead: number;
  readCapacity: number;
  writeCapacity: number;
}

export const emptyDynamoStats = (): DynamoStats => ({
  reads: 0,
  writes: 0,
  batchGets: 0,
  itemsRead: 0,
  readCapacity: 0,
  writeCapacity: 0,
});

/** Adds the capacity a request consumed to the figures. */
export const countCapacity = (
  stats: DynamoStats,
  capacity: ConsumedCapacity | ConsumedCapacity[] | undefined,
  kind: 'read' | 'write',
): void => {
  const list = Array.isArray(capacity) ? capacity : capacity ? [capacity] : [];
  for (const c of list) {
    const units = c.CapacityUnits ?? 0;
    if (kind === 'read') stats.readCapacity += units;
    else stats.writeCapacity += units;
  }
};

/** A lease's requests, counted in these figures. */
export const statsMeter = (stats: DynamoStats): LeaseMeter => ({
  read: (capacity, found) => {
    stats.reads++;
    if (found) stats.itemsRead++;
    countCapacity(stats, capacity, 'read');
  },
  write: (capacity) => {
    stats.writes++;
    countCapacity(stats, capacity, 'write');
  },
});
