/**
 * The contract's vocabularies are the API's filter words in lower case. Responses use other spellings
 * ("CONFIRMED", "All Received", "In Progress"), and unknown words must pass through, so we normalise
 * rather than map: lower case, runs of spaces/hyphens to one underscore.
 */
export const normaliseWord = (value: string): string =>
  value
    .trim()
    .toLowerCase()
    .replace(/[\s-]+/g, '_');

export const ORDER_STATUSES = ['draft', 'confirmed', 'complete', 'cancelled'] as const;
export const DELIVERY_STATUSES = ['not_received', 'receiving', 'all_received'] as const;
export const STAGE_STATUSES = ['not_started', 'in_progress', 'completed'] as const;

/** Statuses after which an order no longer moves on its own (its stages still may). */
export const CLOSED_STATUSES: ReadonlySet<string> = new Set(['complete', 'cancelled']);

export const ALL_RECEIVED = 'all_received';
export const STAGE_COMPLETED = 'completed';
export const STAGE_IN_PROGRESS = 'in_progress';
