import { createHash } from 'node:crypto';
import type { CheckRequest } from './intake.js';

/**
 * The deployed path's coalescing slot. Tickets for one order in one slot share a deduplication id, and the
 * check queue holds every message back at least this long (its delivery delay), so a slot's check starts
 * after the slot has ended: a ticket that SQS drops as a repeat always precedes the look-up of the message
 * it repeats. A ticket after that check falls in a later slot and queues a check of its own.
 */
export const CHECK_SLOT_MS = 10_000;

/** A queued check: the order, its organisation (unset: each configured one) and when the ticket came. */
export interface QueuedCheck extends CheckRequest {
  /** When the ticket arrived (ms since the epoch); absent in messages of an older version. */
  at?: number;
}

/** The message group of messages naming no organisation (checked in each configured one). */
const ALL_ORGANISATIONS_GROUP = 'all';

/**
 * One FIFO group per organisation: an organisation's checks run one batch at a time (the lease keeps them
 * apart from its cycles), and one whose checks fail holds back only its own group.
 */
export const groupOf = (organisationId: number | undefined): string =>
  organisationId === undefined ? ALL_ORGANISATIONS_GROUP : `org-${organisationId}`;

/** The queue message of a check: `{number, organisationId?, at}` as JSON. */
export const checkMessage = (request: CheckRequest, atMs: number) => {
  const check: QueuedCheck = { ...request, at: atMs };
  return {
    body: JSON.stringify(check),
    /** Repeats within one slot are queued once (SQS drops them for five minutes per id). */
    deduplicationId: createHash('sha256')
      .update(`${request.organisationId ?? ''}:${request.number}:${Math.floor(atMs / CHECK_SLOT_MS)}`)
      .digest('hex'),
    groupId: groupOf(request.organisationId),
  };
};

/** Reads a queue message back; anything else is refused (null). */
export const parseCheckMessage = (body: string): QueuedCheck | null => {
  let value: unknown;
  try {
    value = JSON.parse(body);
  } catch {
    return null;
  }
  if (!value || typeof value !== 'object') return null;
  const { number, organisationId, at } = value as Record<string, unknown>;
  if (typeof number !== 'string' || number === '' || number.length > 64) return null;
  if (
    organisationId !== undefined &&
    (typeof organisationId !== 'number' || !Number.isInteger(organisationId))
  )
    return null;
  if (at !== undefined && (typeof at !== 'number' || !Number.isSafeInteger(at) || at < 0)) return null;
  return {
    number,
    ...(organisationId === undefined ? {} : { organisationId }),
    ...(at === undefined ? {} : { at }),
  };
};
