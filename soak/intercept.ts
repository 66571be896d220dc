import type { StateStore } from '../functions/cycle/ports.js';
import type { Lease } from '../functions/cycle/records.js';

/** The store's calls that do I/O and return a promise: where a process can die or a test can step in. */
const STORE_CALLS = [
  'acquireLease',
  'takeOverLease',
  'getCheckpoint',
  'getSnapshots',
  'readIndex',
  'readHistory',
  'readJournal',
  'writeJournalPart',
  'sealJournal',
  'applyWrites',
  'clearJournal',
  'setAside',
  'listSetAside',
  'removeSetAside',
] as const satisfies ReadonlyArray<keyof StateStore>;

export type StoreCall = (typeof STORE_CALLS)[number];

export interface StoreHooks {
  /** Before and after each call (after: with its result); a throw plays a crash there. */
  around?: (
    call: StoreCall,
    phase: 'before' | 'after',
    args: unknown[],
    result?: unknown,
  ) => void | Promise<void>;
  /** Replaces the lease's release (a dead process releases nothing). */
  release?: (lease: Lease, inner: StateStore) => Promise<void>;
}

/** A store that behaves as `inner`, with hooks around each call (kills, faults, pauses). */
export const interceptStore = (inner: StateStore, hooks: StoreHooks): StateStore => {
  const wrapped = {
    listSnapshotIds: () => inner.listSnapshotIds(),
    snapshotFits: (snapshot: Parameters<StateStore['snapshotFits']>[0]) => inner.snapshotFits(snapshot),
    releaseLease: (lease: Lease) => (hooks.release ? hooks.release(lease, inner) : inner.releaseLease(lease)),
  } as Partial<StateStore>;
  for (const call of STORE_CALLS) {
    const fn = inner[call] as (...args: unknown[]) => Promise<unknown>;
    (wrapped as Record<string, unknown>)[call] = async (...args: unknown[]) => {
      await hooks.around?.(call, 'before', args);
      const result = await fn.apply(inner, args);
      await hooks.around?.(call, 'after', args, result);
      return result;
    };
  }
  return wrapped as StateStore;
};
