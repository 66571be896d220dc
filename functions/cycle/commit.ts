import type { NotifierEvent } from '../core/events/catalogue.js';
import type { StageSample } from '../core/history.js';
import { ConflictError, ItemTooLargeError, WriteRefusedError } from './errors.js';
import type { EventSink, JournalStore, Logger, SetAsideStore, StateWriter } from './ports.js';
import type {
  Checkpoint,
  CommitRef,
  Fence,
  IndexUpdate,
  Journal,
  JournalPart,
  Lease,
  SetAsideEvent,
  SnapshotWrite,
  StateWrites,
} from './records.js';
import { commitIdOf } from './records.js';

export type CycleStep =
  | 'lease-acquired'
  | 'recovered'
  | 'scanned'
  | 'journal-part-written'
  | 'journal-sealed'
  | 'state-written'
  | 'published'
  | 'journal-cleared';

export interface CommitContext {
  /** What a commit writes: the journal, the state and the events set aside (never the lease). */
  store: JournalStore & StateWriter & SetAsideStore;
  sink: EventSink;
  lease: Lease;
  now: () => number;
  logger: Logger;
  /** Aborts commit I/O at the cycle's hard deadline. */
  signal?: AbortSignal;
  remainingMs?: () => number;
  /** Test seam: called after each write; a throw there plays a crash at that point. */
  step: (step: CycleStep) => Promise<void> | void;
  /** Numbers this runner's commits (with the lease generation, a commit's id). */
  commits: number;
  /** Events the bus refused for good, set aside during this cycle. */
  setAside: number;
  /** Largest journal part, in bytes of JSON (tests and the soak lower it to exercise multi-part commits). */
  partBytes?: number;
}

/** Keeps each journal part well below DynamoDB's 400 KB item limit (parts are stored deflated). */
const JOURNAL_PART_BYTES = 300_000;

export interface CommitBatch {
  events: NotifierEvent[];
  writes: SnapshotWrite[];
  checkpoint: Checkpoint | null;
  /** Index changes without a snapshot write (repairs, due times, orders leaving the index). */
  index?: IndexUpdate[];
  /** Completed stages new to the stage history (merged by the store; a replay merges them again, harmlessly). */
  history?: StageSample[];
}

const indexOf = (batch: CommitBatch): IndexUpdate[] => batch.index ?? [];
const historyOf = (batch: CommitBatch): StageSample[] => batch.history ?? [];

/** Splits a commit into parts of at most JOURNAL_PART_BYTES of JSON (a single larger item gets a part alone). */
const splitForJournal = (
  ref: CommitRef,
  batch: CommitBatch,
  maxBytes: number = JOURNAL_PART_BYTES,
): JournalPart[] => {
  const parts: JournalPart[] = [];
  const fresh = (): JournalPart => ({ ...ref, part: parts.length, events: [], writes: [], checkpoint: null });
  let current = fresh();
  let size = 0;
  const filled = (part: JournalPart) =>
    part.events.length > 0 ||
    part.writes.length > 0 ||
    (part.index?.length ?? 0) > 0 ||
    (part.history?.length ?? 0) > 0;
  const push = (
    kind: 'events' | 'writes' | 'index' | 'history',
    item: NotifierEvent | SnapshotWrite | IndexUpdate | StageSample,
  ) => {
    const bytes = JSON.stringify(item).length;
    if (size + bytes > maxBytes && filled(current)) {
      parts.push(current);
      current = fresh();
      size = 0;
    }
    if (kind === 'index') current.index = [...(current.index ?? []), item as IndexUpdate];
    else if (kind === 'history') {
      current.history ??= [];
      current.history.push(item as StageSample);
    } else (current[kind] as unknown[]).push(item);
    size += bytes;
  };
  for (const event of batch.events) push('events', event);
  for (const write of batch.writes) push('writes', write);
  for (const update of indexOf(batch)) push('index', update);
  for (const sample of historyOf(batch)) push('history', sample);
  if (batch.checkpoint) {
    const bytes = JSON.stringify(batch.checkpoint).length;
    if (size + bytes > maxBytes && filled(current)) {
      parts.push(current);
      current = fresh();
    }
    current.checkpoint = batch.checkpoint;
  }
  parts.push(current);
  return parts;
};

const fenceOf = (context: CommitContext): Fence => ({ lease: context.lease, signal: context.signal });

/**
 * A sealed commit that could not be replayed. It stays in the journal, and every run tries it again
 * before anything else: the organisation makes no progress until it goes through, but nothing is lost.
 */
export class CommitReplayError extends Error {
  override readonly name = 'CommitReplayError';
  constructor(
    readonly commitId: string,
    reason: string,
    cause?: unknown,
  ) {
    super(
      `sealed commit ${commitId} could not be replayed: ${reason}. It stays in the journal and every cycle retries it first, so this organisation's cycles fail until it goes through; nothing is lost while its journal records are kept (they hold its events: do not delete them). If it keeps failing, the state needs attention: report this message`,
      cause === undefined ? undefined : { cause },
    );
  }
}

/**
 * Failures that come back whenever the same writes are sent: the store refused them, a snapshot they
 * expect was changed by another writer, an item is too large. Others (a lost lease, the deadline, an
 * outage, a crash) are no fault of the commit and end the run as they would anywhere.
 */
const refusal = (error: unknown): boolean =>
  error instanceof WriteRefusedError || error instanceof ConflictError || error instanceof ItemTooLargeError;

/**
 * The commit's state writes. A journaled commit whose writes the store refuses for good as it grouped
 * them (WriteRefusedError: DynamoDB would never accept those transactions) is written again one item at a
 * time: its seal has promised it, and its commit tag makes each write idempotent.
 */
const writeState = async (
  context: CommitContext,
  ref: CommitRef | null,
  batch: CommitBatch,
  replay: boolean,
): Promise<void> => {
  const fence = fenceOf(context);
  const writes: StateWrites = {
    writes: batch.writes,
    checkpoint: batch.checkpoint,
    ...(indexOf(batch).length > 0 ? { index: indexOf(batch) } : {}),
    ...(historyOf(batch).length > 0 ? { history: historyOf(batch) } : {}),
    commit: ref,
    replay,
  };
  try {
    await context.store.applyWrites(fence, writes);
  } catch (error) {
    if (!(error instanceof WriteRefusedError) || ref === null) throw error;
    context.logger.warn('the store refused the writes of a commit as packed; writing them one at a time', {
      commit: commitIdOf(ref),
      reason: error.message,
    });
    try {
      await context.store.applyWrites(fence, { ...writes, replay: true, singly: true });
    } catch (again) {
      if (!refusal(again)) throw again;
      // Replaying, the caller names the commit; else say which one the next cycle replays.
      const which = replay ? '' : `commit ${commitIdOf(ref)} (sealed: the next cycle replays it): `;
      throw new WriteRefusedError(
        `${which}${error.message}; then one item at a time: ${(again as Error).message}`,
        { cause: again },
      );
    }
  }
};

/**
 * Applies a journaled (or event-free) commit: state writes, then the events, then the journal is cleared.
 * Events the bus refuses for good are set aside in the store before the journal goes.
 */
const apply = async (
  context: CommitContext,
  ref: CommitRef | null,
  batch: CommitBatch,
  parts: number[],
  replay: boolean,
): Promise<void> => {
  const fence = fenceOf(context);
  if (
    batch.writes.length > 0 ||
    batch.checkpoint ||
    indexOf(batch).length > 0 ||
    historyOf(batch).length > 0
  ) {
    await writeState(context, ref, batch, replay);
    await context.step('state-written');
  }
  if (batch.events.length > 0) {
    const { rejected } = await context.sink.publish(batch.events, {
      signal: context.signal,
      remainingMs: context.remainingMs,
    });
    await context.step('published');
    if (rejected.length > 0) {
      const at = new Date(context.now()).toISOString();
      const aside: SetAsideEvent[] = rejected.map((r) => ({
        event: r.event,
        reason: r.reason,
        setAsideAt: at,
      }));
      await context.store.setAside(fence, aside);
      context.setAside += aside.length;
      for (const r of rejected) {
        context.logger.error('the event bus refused an event for good; it is set aside for resending', {
          eventId: r.event.detail.eventId,
          detailType: r.event.detailType,
          orderId: r.event.detail.order.id,
          reason: r.reason,
        });
      }
    }
  }
  if (ref) {
    await context.store.clearJournal(fence, ref, parts);
    await context.step('journal-cleared');
  }
};

/**
 * Makes one batch of detected changes durable and delivered, surviving a crash at any point:
 *   1. journal the batch in parts (each fenced by the lease), then seal it: from the seal on, the commit
 *      is promised and will be finished by whoever holds the lease next;
 *   2. write the snapshots and the checkpoint (conditional on the versions read, tagged with the commit);
 *   3. publish the events (every entry checked; refused-for-good ones set aside);
 *   4. clear the journal (the seal first).
 * A crash before the seal loses nothing: the snapshots still hold the old state, so the next cycle
 * detects the same changes again with the same sequences and ids (unsealed parts are discarded). A crash
 * after the seal is finished by `recoverJournal`, which publishes exactly the journaled events, even if
 * the order moved on meanwhile. Batches without events skip the journal: their writes are safe to lose
 * (stage history samples too: the next sweep offers every completed stage again).
 */
export const commit = async (context: CommitContext, batch: CommitBatch): Promise<void> => {
  if (
    batch.events.length === 0 &&
    batch.writes.length === 0 &&
    batch.checkpoint === null &&
    indexOf(batch).length === 0 &&
    historyOf(batch).length === 0
  )
    return;
  if (batch.events.length === 0) {
    await apply(context, null, batch, [], false);
    return;
  }
  const ref: CommitRef = { generation: context.lease.generation, commit: ++context.commits };
  const parts = splitForJournal(ref, batch, context.partBytes);
  const fence = fenceOf(context);
  for (const part of parts) {
    await context.store.writeJournalPart(fence, part);
    await context.step('journal-part-written');
  }
  await context.store.sealJournal(fence, { ...ref, parts: parts.length });
  await context.step('journal-sealed');
  await apply(
    context,
    ref,
    batch,
    parts.map((p) => p.part),
    false,
  );
};

/**
 * Finishes the sealed commits a stopped runner left, oldest first, and discards unsealed parts (a commit
 * that was never promised: its changes are detected again). Returns the events re-published. A sealed
 * commit whose writes are refused (see `refusal`) is never skipped or dropped: it stays sealed and the run
 * fails with a CommitReplayError naming it.
 */
export const recoverJournal = async (context: CommitContext, journal: Journal): Promise<number> => {
  if (journal.parts.length === 0 && journal.seals.length === 0) return 0;
  const byCommit = new Map<string, JournalPart[]>();
  for (const part of journal.parts) {
    const id = commitIdOf(part);
    byCommit.set(id, [...(byCommit.get(id) ?? []), part]);
  }
  const seals = [...journal.seals].sort((a, b) => a.generation - b.generation || a.commit - b.commit);
  let republished = 0;
  for (const seal of seals) {
    const id = commitIdOf(seal);
    const parts = (byCommit.get(id) ?? []).sort((a, b) => a.part - b.part);
    byCommit.delete(id);
    if (parts.length !== seal.parts || parts.some((p, i) => p.part !== i)) {
      // Parts are only deleted after their seal, so this is damage from outside: say so, do not guess.
      throw new CommitReplayError(
        id,
        `it is sealed with ${seal.parts} part(s) but ${parts.length} are stored`,
      );
    }
    const batch: CommitBatch = {
      events: parts.flatMap((p) => p.events),
      writes: parts.flatMap((p) => p.writes),
      checkpoint: parts.find((p) => p.checkpoint)?.checkpoint ?? null,
      index: parts.flatMap((p) => p.index ?? []),
      history: parts.flatMap((p) => p.history ?? []),
    };
    try {
      await apply(
        context,
        seal,
        batch,
        parts.map((p) => p.part),
        true,
      );
    } catch (error) {
      if (!refusal(error)) throw error;
      throw new CommitReplayError(id, (error as Error).message, error);
    }
    republished += batch.events.length;
  }
  for (const [, parts] of byCommit) {
    const first = parts[0] as JournalPart;
    context.logger.info('discarding an unsealed commit of a stopped runner; its changes are detected again', {
      commit: commitIdOf(first),
    });
    await context.store.clearJournal(
      fenceOf(context),
      first,
      parts.map((p) => p.part),
    );
  }
  return republished;
};
