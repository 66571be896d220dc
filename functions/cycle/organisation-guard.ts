import { OrganisationMismatchError } from './errors.js';
import type { Checkpoint } from './records.js';

/** What the runtime knows of the organisation a state is polled for. */
export interface OrganisationHint {
  /** The organisation configured (selected before every request); undefined: the credentials' current one. */
  id: number | undefined;
  /** The state's place, for messages (`state file s.json`, `table T, partition org#default`). */
  where: string;
}

/**
 * The second wall between organisations: every order fetched is checked against the organisation the state
 * belongs to before it is diffed. The state records that organisation (`checkpoint.organisationId`): the
 * configured one, or, polling unnamed, the one its first orders came from. An order of another
 * organisation fails the run before anything of it is diffed, stored or emitted.
 */
export class OrganisationGuard {
  #expected: number | undefined;

  constructor(
    private readonly hint: OrganisationHint | undefined,
    private readonly checkpoint: Checkpoint,
  ) {
    const recorded = checkpoint.organisationId;
    const configured = hint?.id;
    if (recorded !== undefined && configured !== undefined && recorded !== configured) {
      throw new OrganisationMismatchError(
        `the ${hint?.where ?? 'state'} belongs to organisation ${recorded}, but organisation ${configured} is configured: give organisation ${configured} a state of its own, or configure ${recorded}`,
        'state',
        configured,
        recorded,
      );
    }
    this.#expected = recorded ?? configured;
    if (this.#expected !== undefined) checkpoint.organisationId = this.#expected;
  }

  /** The orders, once each is known to be of this state's organisation (the first one seen fixes it). */
  own<T extends { id: number; organisationId?: number | null }>(orders: T[]): T[] {
    for (const order of orders) {
      const actual = order.organisationId;
      if (actual === null || actual === undefined) continue;
      if (this.#expected === undefined) {
        this.#expected = actual;
        this.checkpoint.organisationId = actual;
        continue;
      }
      if (actual === this.#expected) continue;
      const expected = this.#expected;
      if (this.hint?.id === undefined) {
        throw new OrganisationMismatchError(
          `the ${this.hint?.where ?? 'state'} belongs to organisation ${expected}, but the credentials now answer for organisation ${actual} (order ${order.id}): set UPHANCE_ORGANISATION_ID=${expected} to poll it (the credentials reach several organisations), or give organisation ${actual} a state of its own; nothing was diffed`,
          'state',
          expected,
          actual,
        );
      }
      throw new OrganisationMismatchError(
        `order ${order.id} came back for organisation ${actual} while organisation ${expected} was being polled: another runner is selecting its organisation on the same credentials; nothing from it was diffed`,
        'selection',
        expected,
        actual,
      );
    }
    return orders;
  }
}
