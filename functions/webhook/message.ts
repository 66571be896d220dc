import { createHash } from 'node:crypto';
import type { CheckRequest } from './intake.js';

/** Coalescing window of the deployed path: one queued check per order and organisation per window. */
const DEDUP_WINDOW_MS = 60_000;

/** The queue message of a check: `{number, organisationId?}` as JSON. */
export const checkMessage = (request: CheckRequest, nowMs: number) => ({
  body: JSON.stringify(request),
  /**
   * FIFO deduplication: the same order within one window is queued once (SQS drops the repeats for five
   * minutes per id; the id changes every window, so a ticket in the next window queues one more check).
   */
  deduplicationId: createHash('sha256')
    .update(`${request.organisationId ?? ''}:${request.number}:${Math.floor(nowMs / DEDUP_WINDOW_MS)}`)
    .digest('hex'),
  /** One group: the checks run one after the other (and the lease keeps them apart from the cycles). */
  groupId: 'checks',
});

/** Reads a queue message back; anything else is refused (null). */
export const parseCheckMessage = (body: string): CheckRequest | null => {
  let value: unknown;
  try {
    value = JSON.parse(body);
  } catch {
    return null;
  }
  if (!value || typeof value !== 'object') return null;
  const { number, organisationId } = value as Record<string, unknown>;
  if (typeof number !== 'string' || number === '' || number.length > 64) return null;
  if (organisationId === undefined) return { number };
  if (typeof organisationId !== 'number' || !Number.isInteger(organisationId)) return null;
  return { number, organisationId };
};
