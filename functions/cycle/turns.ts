import type { LeaseStore, Logger } from './ports.js';
import type { Lease, LeaseClaim, LeaseOutcome } from './records.js';

/** What taking the leases of a run needs. */
export interface TurnDependencies {
  /** The state's lease: a run holds it from its first read to its last write. */
  state: LeaseStore;
  /**
   * The leases on the run's Uphance credentials (on this host, in the table), taken in this order before
   * the state's: the credentials keep one selected organisation for everyone who uses them, so runs for
   * different organisations on the same credentials take turns.
   */
  credentials: LeaseStore[];
  now: () => number;
  sleep: (ms: number, signal?: AbortSignal) => Promise<unknown>;
  /** Whether a holder is a process of this host that no longer runs (its lease is taken over at once). */
  isAbandoned?: (holder: Lease) => boolean;
  logger: Logger;
}

export interface TurnLimits {
  /** Until when a held state lease is waited for (epoch ms); at once when it has passed. */
  stateUntil: number;
  /** Until when held credentials are waited for (epoch ms). */
  credentialsUntil: number;
}

export type Turn =
  | { kind: 'acquired'; state: Lease; credentials: Lease[]; tookOverFrom: Lease | null }
  | { kind: 'held'; holder: Lease; heldBy: 'state' | 'credentials' };

const FIRST_WAIT_MS = 100;
const LONGEST_WAIT_MS = 2_000;

/** Takes a lease, or takes it over from a holder that no longer runs. */
const takeOne = async (
  store: LeaseStore,
  claim: LeaseClaim,
  deps: TurnDependencies,
): Promise<{ outcome: LeaseOutcome; tookOverFrom: Lease | null }> => {
  const outcome = await store.acquire(claim);
  if (outcome.kind === 'acquired' || !deps.isAbandoned?.(outcome.holder))
    return { outcome, tookOverFrom: null };
  deps.logger.warn('taking over the lease of a runner of this host that no longer runs', {
    holder: outcome.holder.owner,
    generation: outcome.holder.generation,
  });
  const taken = await store.takeOver(claim, outcome.holder);
  return { outcome: taken, tookOverFrom: taken.kind === 'acquired' ? outcome.holder : null };
};

const releaseAll = async (stores: LeaseStore[], leases: Lease[], logger: Logger): Promise<void> => {
  for (let i = leases.length - 1; i >= 0; i--) {
    try {
      await (stores[i] as LeaseStore).release(leases[i] as Lease);
    } catch (error) {
      logger.warn('could not release a lease; it will expire', { error: (error as Error).message });
    }
  }
};

/**
 * Takes the credentials' leases, then the state's. A run never waits while holding one of them: when one
 * is held it gives back what it took, waits a little (never past the holder's expiry nor its own limit)
 * and starts again, so that a run waiting for its state never keeps another organisation from the
 * credentials. Returns the leases, or who held one when the limit came.
 */
export const takeTurn = async (
  deps: TurnDependencies,
  claimAt: (nowMs: number) => LeaseClaim,
  limits: TurnLimits,
): Promise<Turn> => {
  let wait = FIRST_WAIT_MS;
  for (;;) {
    const taken: Lease[] = [];
    let held: { holder: Lease; heldBy: 'state' | 'credentials' } | undefined;
    for (const store of deps.credentials) {
      const claim = claimAt(deps.now());
      const { outcome } = await takeOne(store, claim, deps);
      if (outcome.kind === 'held') {
        // Held for this very state (a check of this organisation, another poller of it): its turn is
        // this state's, so it is waited for as a held state lease.
        const same = claim.scope !== undefined && outcome.holder.scope === claim.scope;
        held = { holder: outcome.holder, heldBy: same ? 'state' : 'credentials' };
        break;
      }
      taken.push(outcome.lease);
    }
    if (!held) {
      const { outcome, tookOverFrom } = await takeOne(deps.state, claimAt(deps.now()), deps);
      if (outcome.kind === 'acquired') {
        return { kind: 'acquired', state: outcome.lease, credentials: taken, tookOverFrom };
      }
      held = { holder: outcome.holder, heldBy: 'state' };
    }
    await releaseAll(deps.credentials, taken, deps.logger);
    const now = deps.now();
    const until = held.heldBy === 'state' ? limits.stateUntil : limits.credentialsUntil;
    if (now >= until) return { kind: 'held', ...held };
    await deps.sleep(Math.max(1, Math.min(wait, until - now, Math.max(held.holder.expiresAt - now, 1))));
    wait = Math.min(wait * 2, LONGEST_WAIT_MS);
  }
};

/** Gives the leases of a turn back. */
export const endTurn = async (
  deps: Pick<TurnDependencies, 'state' | 'credentials' | 'logger'>,
  turn: Extract<Turn, { kind: 'acquired' }>,
): Promise<void> => {
  await releaseAll([deps.state, ...deps.credentials], [turn.state, ...turn.credentials], deps.logger);
};
