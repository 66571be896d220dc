import { readFile } from 'node:fs/promises';
import type { PackedHistory } from '../../core/history.js';
import type { Snapshot } from '../../core/snapshot.js';
import type { Checkpoint, IndexEntry, JournalPart, JournalSeal, SetAsideEvent } from '../../cycle/records.js';

/** The command line's state file: its format (version 2), and version 1 read as version 2. */

export interface FileState {
  format: 'uphance-notifier-state';
  version: 2;
  checkpoint: Checkpoint | null;
  /** `commit`: the journaled commit that last wrote the snapshot (replays recognise their own writes). */
  snapshots: Record<string, { rev: number; snapshot: Snapshot; commit?: string }>;
  journal: JournalPart[];
  seals: JournalSeal[];
  setAside: SetAsideEvent[];
  /** The index of watched orders, by order id (absent in files written before it: read as empty). */
  index?: Record<string, IndexEntry>;
  /** The stage history (core/history.ts), packed; absent until a commit brought samples. */
  history?: PackedHistory;
}

/** Version 1 kept one journal record per commit part, without seals: each is replayed as a sealed commit. */
interface FileStateV1 {
  format: 'uphance-notifier-state';
  version: 1;
  checkpoint: Checkpoint | null;
  snapshots: FileState['snapshots'];
  journal: Array<Omit<JournalPart, 'commit'>>;
}

const emptyState = (): FileState => ({
  format: 'uphance-notifier-state',
  version: 2,
  checkpoint: null,
  snapshots: {},
  journal: [],
  seals: [],
  setAside: [],
});

const upgrade = (v1: FileStateV1): FileState => ({
  ...emptyState(),
  checkpoint: v1.checkpoint,
  snapshots: v1.snapshots,
  // Numbered below zero: commits without tags, whose replays skip snapshots already past their version.
  journal: v1.journal.map((e) => ({ ...e, commit: -e.part - 1, part: 0 })),
  seals: v1.journal.map((e) => ({ generation: e.generation, commit: -e.part - 1, parts: 1 })),
});

/** The state in the file at `path`; an empty state when there is no file yet. */
export const readStateFile = async (path: string): Promise<FileState> => {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return emptyState();
    throw new Error(`cannot read the state file ${path}: ${(error as Error).message}`);
  }
  let parsed: FileState | FileStateV1;
  try {
    parsed = JSON.parse(text) as FileState | FileStateV1;
  } catch {
    throw new Error(`the state file ${path} is not valid JSON; move it away to start a new baseline`);
  }
  if (parsed.format !== 'uphance-notifier-state' || (parsed.version !== 1 && parsed.version !== 2)) {
    throw new Error(`${path} is not an uphance-notifier state file (format version 1 or 2)`);
  }
  return parsed.version === 1 ? upgrade(parsed) : parsed;
};
