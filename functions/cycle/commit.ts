import type { NotifierEvent } from '../core/events/catalogue.js';
import type { Checkpoint, EventSink, JournalEntry, Lease, SnapshotWrite, StateStore } from './ports.js';

export type CycleStep =
  | 'lease-acquired'
  | 'recovered'
  | 'scanned'
  | 'journal-written'
  | 'snapshots-written'
  | 'published'
  | 'checkpoint-written'
  | 'journal-deleted';

export interface CommitContext {
  store: StateStore;
  sink: EventSink;
  lease: Lease;
  now: () => number;
  /** Test seam: called after each step; a throw there plays a crash at that point. */
  step: (step: CycleStep) => Promise<void> | void;
}

/** Keeps each journal record well below DynamoDB's 400 KB item limit. */
export const JOURNAL_PART_BYTES = 300_000;

const splitForJournal = (
  events: NotifierEvent[],
  writes: SnapshotWrite[],
): Array<Pick<JournalEntry, 'events' | 'writes'>> => {
  const parts: Array<Pick<JournalEntry, 'events' | 'writes'>> = [];
  let current: Pick<JournalEntry, 'events' | 'writes'> = { events: [], writes: [] };
  let size = 0;
  const push = (kind: 'events' | 'writes', item: NotifierEvent | SnapshotWrite) => {
    const bytes = JSON.stringify(item).length;
    if (size + bytes > JOURNAL_PART_BYTES && (current.events.length > 0 || current.writes.length > 0)) {
      parts.push(current);
      current = { events: [], writes: [] };
      size = 0;
    }
    (current[kind] as unknown[]).push(item);
    size += bytes;
  };
  for (const event of events) push('events', event);
  for (const write of writes) push('writes', write);
  parts.push(current);
  return parts;
};

/**
 * Makes one batch of detected changes durable and delivered, in an order that survives a crash at any
 * point:
 *   1. journal the events, the snapshot writes and the checkpoint (a redo record);
 *   2. write the snapshots (conditional on the version read);
 *   3. publish the events (resolves only when every entry was accepted);
 *   4. write the checkpoint;
 *   5. delete the journal record.
 * A crash before 1 loses nothing (the snapshots still hold the old state: the next cycle detects the same
 * changes again). A crash after 1 is finished by `replayJournal` at the start of the next cycle, which
 * publishes exactly the journaled events: same eventIds and sequences, even if the order moved on
 * meanwhile. Batches without events skip the journal: their writes are safe to lose.
 */
export const commit = async (
  context: CommitContext,
  batch: { events: NotifierEvent[]; writes: SnapshotWrite[]; checkpoint: Checkpoint | null },
  part: number,
): Promise<number> => {
  const { store, sink, lease } = context;
  if (batch.events.length === 0 && batch.writes.length === 0 && batch.checkpoint === null) return part;
  await store.assertLease(lease, context.now());
  const parts = batch.events.length > 0 ? splitForJournal(batch.events, batch.writes) : [];
  const entries: JournalEntry[] = parts.map((p, index) => ({
    generation: lease.generation,
    part: part + index,
    events: p.events,
    writes: p.writes,
    checkpoint: index === parts.length - 1 ? batch.checkpoint : null,
  }));
  for (const entry of entries) await store.writeJournal(entry);
  if (entries.length > 0) await context.step('journal-written');
  if (batch.writes.length > 0) {
    await store.writeSnapshots(batch.writes, { replay: false });
    await context.step('snapshots-written');
  }
  if (batch.events.length > 0) {
    await sink.publish(batch.events);
    await context.step('published');
  }
  if (batch.checkpoint) {
    await store.assertLease(lease, context.now());
    await store.putCheckpoint(batch.checkpoint);
    await context.step('checkpoint-written');
  }
  for (const entry of entries) await store.deleteJournal(entry);
  if (entries.length > 0) await context.step('journal-deleted');
  return part + Math.max(1, entries.length);
};

/** Finishes the commits that a crashed cycle journaled, oldest first. Returns the events re-published. */
export const replayJournal = async (context: CommitContext, journal?: JournalEntry[]): Promise<number> => {
  const entries = journal ?? (await context.store.readJournal());
  if (entries.length === 0) return 0;
  entries.sort((a, b) => a.generation - b.generation || a.part - b.part);
  let events = 0;
  for (const entry of entries) {
    await context.store.assertLease(context.lease, context.now());
    if (entry.writes.length > 0) await context.store.writeSnapshots(entry.writes, { replay: true });
    if (entry.events.length > 0) await context.sink.publish(entry.events);
    if (entry.checkpoint) await context.store.putCheckpoint(entry.checkpoint);
    await context.store.deleteJournal(entry);
    events += entry.events.length;
  }
  return events;
};
