import type { CommitRef, Journal, JournalPart, JournalSeal } from '../../cycle/records.js';
import type { PendingWrite } from './items.js';
import { unpack } from './items.js';
import { isLegacyRecordKey, isSealKey, JOURNAL_PREFIX, partKey, sealKey } from './keys.js';
import type { Partition } from './partition.js';

/**
 * The journal: each commit's parts, then its seal, one item each (keys.ts); records of version 0.1
 * (one item per part, no seal) are read as sealed commits of one part, numbered below zero.
 */

export const readJournal = async (partition: Partition): Promise<Journal> => {
  const journal: Journal = { parts: [], seals: [] };
  for await (const items of partition.query(JOURNAL_PREFIX, { consistent: true })) {
    for (const item of items) {
      const sk = item.sk?.S ?? '';
      const data = item.data?.B as Uint8Array;
      if (isLegacyRecordKey(sk)) {
        const legacy = unpack<Omit<JournalPart, 'commit'>>(data);
        const ref = { generation: legacy.generation, commit: -legacy.part - 1 };
        journal.parts.push({ ...legacy, ...ref, part: 0 });
        journal.seals.push({ ...ref, parts: 1 });
      } else if (isSealKey(sk)) journal.seals.push(unpack<JournalSeal>(data));
      else journal.parts.push(unpack<JournalPart>(data));
    }
  }
  return journal;
};

export const partPut = (partition: Partition, part: JournalPart): PendingWrite =>
  partition.put(partKey(part, part.part), part);

export const sealPut = (partition: Partition, seal: JournalSeal): PendingWrite =>
  partition.put(sealKey(seal), seal);

/** A commit's deletions, the seal first: a crash part-way leaves unsealed parts, which are discarded. */
export const commitDeletes = (partition: Partition, commit: CommitRef, parts: number[]): PendingWrite[] =>
  [...new Set([sealKey(commit), ...parts.map((p) => partKey(commit, p))])].map((sk) => partition.delete(sk));
