import type { StageHistory } from '../core/history.js';
import type { Snapshot } from '../core/snapshot.js';
import type { JournalStore, SnapshotStore } from '../cycle/ports.js';
import { readSnapshots } from '../cycle/snapshot-reader.js';

/**
 * What the digest reads: the journal first, then the snapshots. A commit applied between the two reads is
 * then seen in one or the other; one still journaled bounds the digest's period (DigestState.pendingSince).
 */
export const readDigestState = async (
  store: Pick<JournalStore, 'readJournal'> &
    Pick<SnapshotStore, 'listSnapshotIds' | 'getSnapshots' | 'readHistory'>,
): Promise<{ snapshots: Snapshot[]; pendingSince: number | null; history: StageHistory }> => {
  const journal = await store.readJournal();
  let pendingSince: number | null = null;
  for (const part of journal.parts) {
    for (const event of part.events) {
      const at = Date.parse(event.detail.detectedAt);
      if (Number.isFinite(at) && (pendingSince === null || at < pendingSince)) pendingSince = at;
    }
  }
  const [snapshots, history] = await Promise.all([readSnapshots(store), store.readHistory()]);
  return { snapshots, pendingSince, history };
};
