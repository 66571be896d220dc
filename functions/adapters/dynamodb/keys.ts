import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import type { CommitRef } from '../../cycle/records.js';

/**
 * Where an organisation's state lives in the table: the partition `org#<organisation>`, and in it one item
 * per sort key below. Every key of a partition is built here.
 */
export const partitionOf = (organisation: string): string => `org#${organisation}`;

export const itemKey = (pk: string, sk: string): Record<string, AttributeValue> => ({
  pk: { S: pk },
  sk: { S: sk },
});

/** The lease (lease.ts): also in the credentials' partitions, `cred#<hash>`. */
export const LEASE_KEY = 'lease';

export const CHECKPOINT_KEY = 'checkpoint';

/** Snapshots: `order#<id>`. */
export const ORDER_PREFIX = 'order#';
export const orderKey = (id: number): string => `${ORDER_PREFIX}${id}`;
export const orderIdOfKey = (sk: string | undefined): number => Number(sk?.slice(ORDER_PREFIX.length));

/** The index of watched orders: `index#0` to `index#7` (index-shards.ts). */
export const indexKey = (shard: number): string => `index#${shard}`;
export const indexShardOfKey = (sk: string | undefined): number => Number(sk?.slice('index#'.length));

/** The stage history: `history#0` to `history#7` (history.ts). */
export const historyKey = (shard: number): string => `history#${shard}`;
export const historyShardOfKey = (sk: string | undefined): number => Number(sk?.slice('history#'.length));

/** Journal parts and seals: `journal#<generation>#<commit>#part#<n>`, `journal#<generation>#<commit>#seal`. */
export const JOURNAL_PREFIX = 'journal#';
const commitKey = (ref: CommitRef) =>
  `journal#${String(ref.generation).padStart(16, '0')}#${String(ref.commit).padStart(8, '0')}`;
/**
 * Version 0.1 journaled each commit part as one record, `journal#<generation>#<part>`, without seals: such
 * a record is read as a sealed commit of one part numbered -(part + 1), and cleared by its own key.
 */
const legacyKey = (ref: CommitRef) =>
  `journal#${String(ref.generation).padStart(16, '0')}#${String(-ref.commit - 1).padStart(6, '0')}`;
export const isLegacy = (ref: CommitRef): boolean => ref.commit < 0;
export const isLegacyRecordKey = (sk: string): boolean => sk.split('#').length === 3;
export const isSealKey = (sk: string): boolean => sk.endsWith('#seal');
export const partKey = (ref: CommitRef, part: number): string =>
  isLegacy(ref) ? legacyKey(ref) : `${commitKey(ref)}#part#${String(part).padStart(6, '0')}`;
export const sealKey = (ref: CommitRef): string =>
  isLegacy(ref) ? legacyKey(ref) : `${commitKey(ref)}#seal`;

/** Events set aside: `aside#<eventId>`. */
export const ASIDE_PREFIX = 'aside#';
export const asideKey = (eventId: string): string => `${ASIDE_PREFIX}${eventId}`;
