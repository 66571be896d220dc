/** The errors the ports throw: the cycle tells a lost lease, a conflict and a refusal apart by them. */

/** A fenced write was refused: another runner has taken the lease since. */
export class LeaseLostError extends Error {
  override readonly name = 'LeaseLostError';
}

/** A conditional write found its item at another version than the one read: another writer changed it. */
export class ConflictError extends Error {
  override readonly name = 'ConflictError';
}

export { DeadlineExceededError } from '../shared/timing.js';

/**
 * Orders of another organisation than the one this state belongs to. `state`: the state itself belongs to
 * another organisation than the one configured (a configuration error); `selection`: the API answered for
 * another organisation than the one selected. Nothing from such orders is diffed, stored or emitted.
 */
export class OrganisationMismatchError extends Error {
  override readonly name = 'OrganisationMismatchError';
  constructor(
    message: string,
    readonly kind: 'state' | 'selection',
    readonly expected: number,
    readonly actual: number,
  ) {
    super(message);
  }
}

/**
 * The store refused a write for good: a request it will never accept as it was sent (DynamoDB's
 * ValidationException, or a transaction the store's own checks stop before sending it). Retrying the same
 * request is pointless; writing its items one at a time may not be.
 */
export class WriteRefusedError extends Error {
  override readonly name = 'WriteRefusedError';
}

/** A state item would exceed the store's item size limit. */
export class ItemTooLargeError extends Error {
  override readonly name = 'ItemTooLargeError';
}
