import { deflateRawSync, inflateRawSync } from 'node:zlib';
import type { TransactWriteItem } from '@aws-sdk/client-dynamodb';

/** DynamoDB's item limit is 400 KB; keys and attribute names take the rest of this margin. */
export const MAX_ITEM_BYTES = 400 * 1024;
export const ITEM_OVERHEAD_BYTES = 1024;

/** Every state item keeps its value in `data`: JSON, deflated. */
export const pack = (value: unknown): Uint8Array => deflateRawSync(Buffer.from(JSON.stringify(value)));
export const unpack = <T>(bytes: Uint8Array): T => JSON.parse(inflateRawSync(bytes).toString('utf8')) as T;

/** Whether packed data fits in one item beside its key and attributes. */
export const fitsInItem = (packed: Uint8Array): boolean =>
  packed.length + ITEM_OVERHEAD_BYTES <= MAX_ITEM_BYTES;

/** One action of a transaction, not sent yet. */
export interface PendingWrite {
  item: TransactWriteItem;
  /** The item's sort key: a transaction may name an item only once. */
  sk: string;
  bytes: number;
  /** What a failed condition on this item means. */
  describe: string;
}
