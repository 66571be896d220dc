import type { CallBounds, Checkpoint, OrderSource, StateStore } from './ports.js';
import { OrganisationMismatchError } from './ports.js';

/** What the runtime knows of the organisation a state is polled for. */
export interface OrganisationHint {
  /** The organisation configured (selected before every request); undefined: the credentials' current one. */
  id: number | undefined;
  /**
   * The state was found where an earlier version kept an unnamed organisation's state, without a record of
   * its organisation: before anything is diffed, some of its orders are looked up in `id` to confirm it.
   */
  probeUnrecorded: boolean;
  /** The state's place, for messages (`state file s.json`, `table T, partition org#default`). */
  where: string;
}

/** Orders looked up to confirm that an unrecorded state belongs to the organisation configured. */
const PROBE_ORDERS = 3;

/**
 * The second wall between organisations: every order fetched is checked against the organisation the state
 * belongs to before it is diffed. The state records that organisation (`checkpoint.organisationId`): the
 * configured one, or, polling unnamed, the one its first orders came from. An order of another
 * organisation fails the run before anything of it is diffed, stored or emitted.
 */
export class OrganisationGuard {
  #expected: number | undefined;
  /** Whether the state recorded its organisation before this run. */
  readonly #recorded: boolean;

  constructor(
    private readonly hint: OrganisationHint | undefined,
    private readonly checkpoint: Checkpoint,
  ) {
    const recorded = checkpoint.organisationId;
    this.#recorded = recorded !== undefined;
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

  /**
   * A state found without a record of its organisation where an unnamed organisation's state was kept is
   * confirmed before it is used: some of its watched orders must be found in the organisation configured.
   * A state with no orders is anyone's. Otherwise it belongs to another organisation: a configuration error.
   */
  async confirm(
    store: Pick<StateStore, 'getSnapshots' | 'listSnapshotIds'>,
    source: Pick<OrderSource, 'lookup'>,
    bounds: CallBounds,
  ): Promise<void> {
    const configured = this.hint?.id;
    if (!this.hint?.probeUnrecorded || configured === undefined || this.#recorded) return;
    let ids = [...this.checkpoint.watched].sort((a, b) => b - a).slice(0, PROBE_ORDERS);
    if (ids.length === 0) {
      for await (const batch of store.listSnapshotIds()) {
        ids = batch.sort((a, b) => b - a).slice(0, PROBE_ORDERS);
        break;
      }
    }
    if (ids.length === 0) return;
    const snapshots = await store.getSnapshots(ids);
    const tried: string[] = [];
    for (const id of ids) {
      const snapshot = snapshots.get(id)?.snapshot;
      if (!snapshot) continue;
      tried.push(snapshot.order.number);
      const result = await source.lookup({ id, number: snapshot.order.number }, bounds);
      if (result.kind === 'found') return;
    }
    if (tried.length === 0) return;
    throw new OrganisationMismatchError(
      `the ${this.hint.where} was written by an earlier version without recording its organisation, and none of its orders ${tried.join(', ')} is in organisation ${configured}: it belongs to another organisation. Poll it once with the organisation it was made for (that records it), or move it away to start a new baseline for ${configured}`,
      'state',
      configured,
      configured,
    );
  }
}
