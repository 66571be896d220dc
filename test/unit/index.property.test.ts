import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { FileStateStore } from '../../functions/adapters/file/state-store.js';
import { detectChanges, firstSight } from '../../functions/core/diff.js';
import type { NotifierEvent } from '../../functions/core/events/catalogue.js';
import { orderFingerprint, unchangedSince } from '../../functions/core/fingerprint.js';
import type { Order } from '../../functions/core/order.js';
import type { SignalSettings } from '../../functions/core/signals.js';
import { nextSignalAt } from '../../functions/core/signals.js';
import { isWatched, sameSnapshot } from '../../functions/core/snapshot.js';
import { CLOSED_STATUSES, STAGE_COMPLETED } from '../../functions/core/vocabulary.js';
import type { CycleReport } from '../../functions/cycle/cycle.js';
import { runCycle } from '../../functions/cycle/cycle.js';
import type {
  EventSink,
  LookupResult,
  OrderSource,
  ScanQuery,
  SourcePage,
  StateStore,
} from '../../functions/cycle/ports.js';
import { silentLogger } from '../../functions/cycle/ports.js';
import { interceptStore } from '../../soak/intercept.js';
import { tempStatePath } from '../helpers/harness.js';

/**
 * The index must never change what is detected: random histories of a small account (stages moving both
 * ways, values changing and changing back, orders reverting to an earlier version, created, deleted, with
 * repeated line item ids) give the same events and the same snapshots with the index as with a full read
 * of every snapshot, including when a cycle dies between the writes of a commit, or in the middle of one.
 */

const STATUSES = ['draft', 'confirmed', 'complete', 'cancelled', 'on_hold'];
const DELIVERIES = ['not_received', 'receiving', 'all_received', null];
const DUES = [null, '2026-01-01', '2026-02-15'];
const UPDATED = [null, '2026-01-01T00:00:00Z', '2026-01-02T00:00:00Z'];
const STAGE_STATUSES = ['not_started', 'in_progress', 'completed'];
const TIMES = [null, '2026-01-01T10:00:00Z', '2026-01-01T11:00:00Z'];
const NAMES = ['Cutting', 'Sewing', 'Packing'];

type Op =
  | { kind: 'stage'; order: number; item: number; stage: number; status: string; time: string | null }
  | { kind: 'restart'; order: number; item: number; stage: number }
  | { kind: 'addStage'; order: number; item: number; name: string }
  | { kind: 'status'; order: number; value: string }
  | { kind: 'delivery'; order: number; value: string | null }
  | { kind: 'due'; order: number; value: string | null }
  | { kind: 'updated'; order: number; value: string | null }
  | { kind: 'name'; order: number; value: string }
  | { kind: 'revert'; order: number; back: number }
  | { kind: 'duplicateItem'; order: number }
  | { kind: 'create' }
  | { kind: 'delete'; order: number };

const pick = <T>(values: readonly T[]) => fc.constantFrom(...values);
const opArb: fc.Arbitrary<Op> = fc.oneof(
  {
    arbitrary: fc.record({
      kind: fc.constant('stage' as const),
      order: fc.nat(9),
      item: fc.nat(3),
      stage: fc.nat(3),
      status: pick(STAGE_STATUSES),
      time: pick(TIMES),
    }),
    weight: 6,
  },
  {
    // A stage (re)started with another start time than it had: in progress again, or still.
    arbitrary: fc.record({
      kind: fc.constant('restart' as const),
      order: fc.nat(9),
      item: fc.nat(3),
      stage: fc.nat(3),
    }),
    weight: 2,
  },
  {
    arbitrary: fc.record({
      kind: fc.constant('addStage' as const),
      order: fc.nat(9),
      item: fc.nat(3),
      name: pick(NAMES),
    }),
    weight: 1,
  },
  {
    arbitrary: fc.record({ kind: fc.constant('status' as const), order: fc.nat(9), value: pick(STATUSES) }),
    weight: 2,
  },
  {
    arbitrary: fc.record({
      kind: fc.constant('delivery' as const),
      order: fc.nat(9),
      value: pick(DELIVERIES),
    }),
    weight: 1,
  },
  {
    arbitrary: fc.record({ kind: fc.constant('due' as const), order: fc.nat(9), value: pick(DUES) }),
    weight: 1,
  },
  {
    arbitrary: fc.record({ kind: fc.constant('updated' as const), order: fc.nat(9), value: pick(UPDATED) }),
    // Changes that give no event but a new snapshot: where a commit has no journal to replay.
    weight: 4,
  },
  {
    arbitrary: fc.record({
      kind: fc.constant('name' as const),
      order: fc.nat(9),
      value: pick(['Tee', 'Shirt']),
    }),
    weight: 1,
  },
  {
    arbitrary: fc.record({ kind: fc.constant('revert' as const), order: fc.nat(9), back: fc.nat(4) }),
    weight: 3,
  },
  { arbitrary: fc.record({ kind: fc.constant('duplicateItem' as const), order: fc.nat(9) }), weight: 1 },
  { arbitrary: fc.record({ kind: fc.constant('create' as const) }), weight: 1 },
  { arbitrary: fc.record({ kind: fc.constant('delete' as const), order: fc.nat(9) }), weight: 1 },
);

/** Where a cycle dies: before or after its n-th write (journal, state, publish, clear), or in its middle. */
interface Crash {
  at: number;
  phase: 'before' | 'after' | 'mid';
  cut: number;
}

interface Round {
  ops: Op[];
  crash: Crash | null;
}

const roundArb: fc.Arbitrary<Round> = fc.record({
  ops: fc.array(opArb, { maxLength: 4 }),
  crash: fc.option(
    fc.record({
      at: fc.nat(2),
      phase: pick(['before', 'after', 'mid', 'mid'] as const),
      cut: fc.double({ min: 0, max: 1, noNaN: true }),
    }),
    { freq: 2 },
  ),
});

const newOrder = (id: number): Order => ({
  id,
  number: String(1000 + id),
  status: 'confirmed',
  deliveryStatus: 'not_received',
  companyId: 1,
  companyName: 'Bolide',
  seasonId: 1,
  dueDate: null,
  updatedAt: null,
  createdAt: null,
  lineItems: [0, 1].map((i) => ({
    id: id * 10 + i,
    productId: 1,
    productName: 'Tee',
    color: 'Black',
    stages: [{ name: 'Cutting', status: 'not_started', startTime: null, endTime: null }],
  })),
});

/** The account: orders, and every earlier version of each (for reverts). */
class World {
  readonly orders = new Map<number, Order>();
  readonly versions = new Map<number, Order[]>();
  nextId = 1;

  constructor(count: number) {
    for (let i = 0; i < count; i++) this.create();
  }

  create(): void {
    const order = newOrder(this.nextId++);
    this.orders.set(order.id, order);
    this.versions.set(order.id, []);
  }

  apply(op: Op): void {
    if (op.kind === 'create') {
      this.create();
      return;
    }
    const ids = [...this.orders.keys()];
    if (ids.length === 0) return;
    const id = ids[op.order % ids.length] as number;
    const order = this.orders.get(id) as Order;
    const versions = this.versions.get(id) as Order[];
    if (op.kind === 'delete') {
      this.orders.delete(id);
      return;
    }
    if (op.kind === 'revert') {
      const earlier = versions[versions.length - 1 - (op.back % Math.max(1, versions.length))];
      if (earlier) this.orders.set(id, structuredClone(earlier));
      return;
    }
    versions.push(structuredClone(order));
    const item = order.lineItems[('item' in op ? op.item : 0) % order.lineItems.length];
    switch (op.kind) {
      case 'stage': {
        const stage = item?.stages[op.stage % item.stages.length];
        if (stage) {
          stage.status = op.status;
          stage.startTime = op.time;
        }
        break;
      }
      case 'restart': {
        const stage = item?.stages[op.stage % item.stages.length];
        if (stage) {
          stage.status = 'in_progress';
          stage.startTime = stage.startTime === TIMES[1] ? (TIMES[2] as string) : (TIMES[1] as string);
        }
        break;
      }
      case 'addStage':
        item?.stages.push({ name: op.name, status: 'not_started', startTime: null, endTime: null });
        break;
      case 'status':
        order.status = op.value;
        break;
      case 'delivery':
        order.deliveryStatus = op.value;
        break;
      case 'due':
        order.dueDate = op.value;
        break;
      case 'updated':
        order.updatedAt = op.value;
        break;
      case 'name':
        for (const line of order.lineItems) line.productName = op.value;
        break;
      case 'duplicateItem':
        if (item) order.lineItems.push(structuredClone(item));
        break;
    }
  }
}

const pendingClosed = (o: Order) =>
  CLOSED_STATUSES.has(o.status) &&
  o.lineItems.some((i) => i.stages.some((s) => s.status !== STAGE_COMPLETED));

/** The API over the world: pages of two orders, fresh copies each time. */
const sourceOf = (world: World): OrderSource => ({
  async *scan(query: ScanQuery): AsyncIterable<SourcePage> {
    const match = (o: Order) =>
      query.kind === 'all' ||
      (query.kind === 'open' && ['draft', 'confirmed'].includes(o.status)) ||
      (query.kind === 'pending-closed' && pendingClosed(o)) ||
      (query.kind === 'new' && o.id > query.sinceId);
    const orders = [...world.orders.values()].filter(match).sort((a, b) => a.id - b.id);
    const pages = Math.max(1, Math.ceil(orders.length / 2));
    for (let page = query.page ?? 1; page <= pages; page++) {
      yield {
        page,
        orders: structuredClone(orders.slice((page - 1) * 2, page * 2)),
        invalid: [],
        nextPage: page < pages ? page + 1 : null,
      };
    }
  },
  async lookup(order): Promise<LookupResult> {
    const found = world.orders.get(order.id);
    return found ? { kind: 'found', order: structuredClone(found) } : { kind: 'absent' };
  },
});

class Died extends Error {}

/** A store that dies where the round's crash says; counting only writes both runs make alike. */
const crashable = (inner: StateStore) => {
  const state = { crash: null as Crash | null, writes: 0, dead: false };
  const point = (phase: 'before' | 'after') => {
    if (!state.crash) return;
    if (phase === 'before') state.writes++;
    if (state.writes - 1 === state.crash.at && state.crash.phase === phase) {
      state.dead = true;
      throw new Died(`died ${phase} write ${state.crash.at}`);
    }
  };
  const store = interceptStore(inner, {
    around: async (call, phase, args) => {
      if (state.dead) throw new Died('already dead');
      const counted =
        call === 'writeJournalPart' ||
        call === 'sealJournal' ||
        call === 'clearJournal' ||
        (call === 'applyWrites' &&
          ((args[1] as { writes: unknown[] }).writes.length > 0 ||
            (args[1] as { checkpoint: unknown }).checkpoint !== null));
      if (!counted) return;
      if (
        call === 'applyWrites' &&
        phase === 'before' &&
        state.crash?.phase === 'mid' &&
        state.writes === state.crash.at
      ) {
        // Dies part-way: a prefix of the snapshots written, each with its own index entry (as a DynamoDB
        // transaction would), nothing else.
        state.writes++;
        const [fence, writes] = args as Parameters<StateStore['applyWrites']>;
        await inner.applyWrites(fence, {
          ...writes,
          writes: writes.writes.slice(0, Math.floor(state.crash.cut * writes.writes.length)),
          checkpoint: null,
          index: writes.index ?? [],
        });
        state.dead = true;
        throw new Died('died mid-write');
      }
      point(phase);
    },
    release: async (lease) => {
      if (!state.dead) await inner.releaseLease(lease);
    },
  });
  const sink = (published: NotifierEvent[]): EventSink => ({
    async publish(events) {
      if (state.dead) throw new Died('already dead');
      point('before');
      published.push(...structuredClone(events));
      point('after');
      return { rejected: [] };
    },
  });
  return { store, sink, state };
};

/** Without the index: the store's index is never shown to the cycle, so every snapshot is read. */
const blind = (inner: StateStore): StateStore =>
  Object.assign(Object.create(null) as StateStore, inner, {
    readIndex: async () => new Map(),
  });

interface Outcome {
  published: NotifierEvent[];
  snapshots: Map<number, unknown>;
  reports: CycleReport[];
  store: FileStateStore;
  world: World;
  readIds: number[][];
  /** Cycles that died, and of those in the middle of a write. */
  died: number;
  diedMidWrite: number;
}

/**
 * The production signals as a run may have them: stalls after a day (Packing two), due soon within a week.
 * Their clock runs a day a cycle, so stages stall, restart with a new start time and stall again.
 */
const SIGNALS: SignalSettings = {
  timeZone: 'Pacific/Auckland',
  dueSoonDays: 7,
  stallDays: 1,
  stallDaysByStage: { Packing: 2 },
  riskDays: 1,
};

const play = async (
  initial: number,
  rounds: Round[],
  indexed: boolean,
  sweepEvery: number,
  signals: SignalSettings | undefined,
): Promise<Outcome> => {
  const world = new World(initial);
  const file = new FileStateStore(tempStatePath());
  const readIds: number[][] = [];
  const counting = interceptStore(file, {
    around: (call, phase, args) => {
      if (call === 'getSnapshots' && phase === 'before')
        readIds[readIds.length - 1]?.push(...(args[0] as number[]));
    },
  });
  const { store, sink, state } = crashable(indexed ? counting : blind(counting));
  const published: NotifierEvent[] = [];
  const reports: CycleReport[] = [];
  let now = Date.UTC(2026, 0, 1);
  let signalNow = Date.UTC(2025, 11, 31);
  let died = 0;
  let diedMidWrite = 0;
  const cycle = async (crash: Crash | null, sweepIntervalMs = sweepEvery, signalDays = 1) => {
    now += 60_000;
    signalNow += signalDays * 86_400_000;
    state.crash = crash;
    state.writes = 0;
    state.dead = false;
    readIds.push([]);
    try {
      reports.push(
        await runCycle(
          {
            source: sourceOf(world),
            store,
            sink: sink(published),
            now: () => now,
            signalNow: () => signalNow,
            logger: silentLogger,
          },
          {
            owner: 'prop',
            leaseTtlMs: 120_000,
            budgetMs: 60_000,
            sweepIntervalMs,
            emitBaseline: false,
            ...(signals ? { signals } : {}),
          },
        ),
      );
    } catch (error) {
      if (!(error instanceof Died)) throw error;
      died++;
      if (error.message === 'died mid-write') diedMidWrite++;
      now += 120_000; // the dead runner's lease expires
    }
  };
  for (const round of rounds) {
    for (const op of round.ops) world.apply(op);
    await cycle(round.crash);
  }
  // Faults off: let every change through, then cycles with nothing new (without sweeps, which read every
  // snapshot and would mend what a broken index hid); the signals' clock jumps once, so that what was
  // going to fire does, then stops.
  for (const days of [3, 0, 0]) await cycle(null, 0, days);
  const ids: number[] = [];
  for await (const batch of file.listSnapshotIds()) ids.push(...batch);
  const snapshots = new Map([...(await file.getSnapshots(ids))].map(([id, s]) => [id, s.snapshot]));
  return { published, snapshots, reports, store: file, world, readIds, died, diedMidWrite };
};

const distinct = (events: NotifierEvent[]) => {
  const byId = new Map<string, string>();
  for (const event of events) {
    const json = JSON.stringify(event);
    const seen = byId.get(event.detail.eventId);
    // A duplicate is only ever an identical re-emission.
    expect(seen === undefined || seen === json).toBe(true);
    byId.set(event.detail.eventId, json);
  }
  return byId;
};

describe('the index of watched orders', () => {
  it.each([
    ['without the production signals', undefined, 15, 30],
    ['with the production signals (stages stall, restart and stall again)', SIGNALS, 16, 80],
  ])(
    'random histories with crashes give the same events and snapshots with the index as with a full read, %s',
    async (_, signals, seed, numRuns) => {
      let skipped = 0;
      let died = 0;
      let diedMidWrite = 0;
      let stalls = 0;
      await fc.assert(
        fc.asyncProperty(
          fc.integer({ min: 1, max: 4 }),
          fc.array(roundArb, { minLength: 2, maxLength: 12 }),
          fc.constantFrom(0, 300_000),
          async (initial, rounds, sweepEvery) => {
            const full = await play(initial, rounds, false, sweepEvery, signals);
            const fast = await play(initial, rounds, true, sweepEvery, signals);
            expect(distinct(fast.published)).toEqual(distinct(full.published));
            expect(fast.snapshots).toEqual(full.snapshots);
            stalls += full.published.filter((e) => e.detailType === 'StageStalled').length;

            // The index describes the stored snapshots exactly: watched, at the rev, with the fingerprint of
            // the order as it now stands (nothing changed in the last cycles).
            const index = await fast.store.readIndex();
            const stored = await fast.store.getSnapshots([...index.keys()]);
            for (const [id, entry] of index) {
              const snapshot = stored.get(id);
              const order = fast.world.orders.get(id);
              expect(snapshot?.rev).toBe(entry.rev);
              expect(snapshot && isWatched(snapshot.snapshot)).toBe(true);
              expect(order && orderFingerprint(order, signals)).toBe(entry.fp);
            }
            // And it saves the reads: in the last cycle (nothing changed) the only snapshots read are those
            // of orders it cannot index (a null fingerprint) and of watched orders no query shows (looked up).
            const last = fast.reports[fast.reports.length - 1] as CycleReport;
            const lastFull = full.reports[full.reports.length - 1] as CycleReport;
            const shown = (o: Order) => ['draft', 'confirmed'].includes(o.status) || pendingClosed(o);
            for (const id of fast.readIds[fast.readIds.length - 1] ?? []) {
              const order = fast.world.orders.get(id);
              expect(order === undefined || orderFingerprint(order) === null || !shown(order)).toBe(true);
            }
            expect(lastFull.unchanged).toBe(0);
            skipped += last.unchanged;
            died += fast.died;
            diedMidWrite += fast.diedMidWrite;
          },
        ),
        { numRuns, seed },
      );
      // The runs did exercise the index, the crashes and (with the signals) the stalls.
      expect(skipped).toBeGreaterThan(0);
      if (signals) expect(stalls).toBeGreaterThan(20);
      else expect(stalls).toBe(0);
      expect(died).toBeGreaterThan(10);
      expect(diedMidWrite).toBeGreaterThan(3);
    },
    300_000,
  );
});

describe('the fingerprint', () => {
  const DAY = 86_400_000;
  const NOW = Date.UTC(2026, 0, 20, 9);
  const iso = (ms: number) => new Date(ms).toISOString();
  // Stage times from weeks before NOW to today; the second is the first in another notation.
  const STAGE_TIMES = [
    null,
    '2026-01-05T10:00:00Z',
    '2026-01-05T23:00:00+13:00',
    '2026-01-12T08:00:00Z',
    '2026-01-18T20:00:00Z',
    '2026-01-20T08:00:00Z',
  ];
  const STAGE_WORDS = ['not_started', 'in_progress', 'in_progress', 'completed', 'on_hold'];
  const DUE_DATES = [null, '2026-01-10', '2026-01-22', '2026-01-26', '2026-03-01'];

  const settingsArb: fc.Arbitrary<SignalSettings | undefined> = fc.option(
    fc.record({
      timeZone: pick(['UTC', 'Pacific/Auckland', 'America/Los_Angeles']),
      dueSoonDays: pick([0, 3, 7]),
      stallDays: pick([0, 1, 5]),
      stallDaysByStage: pick<Record<string, number>>([{}, { Sewing: 2 }, { Packing: 0, Cutting: 10 }]),
      riskDays: pick([0, 1, 3]),
    }),
    { freq: 5, nil: undefined },
  );
  const stageArb = fc.record({
    name: pick(NAMES),
    status: pick(STAGE_WORDS),
    startTime: pick(STAGE_TIMES),
    endTime: pick(STAGE_TIMES),
  });
  const orderArb: fc.Arbitrary<Order> = fc
    .record({
      status: pick(STATUSES),
      deliveryStatus: pick(DELIVERIES),
      dueDate: pick(DUE_DATES),
      updatedAt: pick(UPDATED),
      items: fc.array(fc.array(stageArb, { maxLength: 4 }), { minLength: 1, maxLength: 3 }),
    })
    .map(({ items, ...fields }) => {
      const order: Order = { ...newOrder(7), ...fields };
      order.lineItems = items.map((stages, index) => ({
        id: 70 + index,
        productId: 1,
        productName: 'Tee',
        color: null,
        stages,
      }));
      return order;
    });

  /** Small edits of an order: some the diff or a signal notices, some it does not. */
  type Edit =
    | { kind: 'start' | 'end'; item: number; stage: number; value: string | null }
    | { kind: 'stage'; item: number; stage: number; value: string }
    | { kind: 'reorder' | 'reorderItems' | 'product' | 'created' | 'dropStage'; item: number; stage: number }
    | { kind: 'addStage'; item: number; stage: number; value: string }
    | { kind: 'due'; value: string | null }
    | { kind: 'delivery'; value: string | null }
    | { kind: 'status'; value: string }
    | { kind: 'updated'; value: string | null };
  const at = { item: fc.nat(2), stage: fc.nat(3) };
  const editArb: fc.Arbitrary<Edit> = fc.oneof(
    {
      arbitrary: fc.record({ kind: pick(['start', 'end'] as const), ...at, value: pick(STAGE_TIMES) }),
      weight: 6,
    },
    {
      arbitrary: fc.record({ kind: fc.constant('stage' as const), ...at, value: pick(STAGE_WORDS) }),
      weight: 3,
    },
    {
      arbitrary: fc.record({
        kind: pick(['reorder', 'reorderItems', 'product', 'created', 'dropStage'] as const),
        ...at,
      }),
      weight: 4,
    },
    {
      arbitrary: fc.record({ kind: fc.constant('addStage' as const), ...at, value: pick(NAMES) }),
      weight: 1,
    },
    { arbitrary: fc.record({ kind: fc.constant('due' as const), value: pick(DUE_DATES) }), weight: 1 },
    { arbitrary: fc.record({ kind: fc.constant('delivery' as const), value: pick(DELIVERIES) }), weight: 1 },
    { arbitrary: fc.record({ kind: fc.constant('status' as const), value: pick(STATUSES) }), weight: 1 },
    { arbitrary: fc.record({ kind: fc.constant('updated' as const), value: pick(UPDATED) }), weight: 1 },
  );
  const edited = (order: Order, edits: Edit[]): Order => {
    const out = structuredClone(order);
    for (const edit of edits) {
      if (!('item' in edit)) {
        if (edit.kind === 'due') out.dueDate = edit.value;
        else if (edit.kind === 'delivery') out.deliveryStatus = edit.value;
        else if (edit.kind === 'status') out.status = edit.value;
        else out.updatedAt = edit.value;
        continue;
      }
      const item = out.lineItems[edit.item % out.lineItems.length] as Order['lineItems'][number];
      const stage = item.stages[edit.stage % Math.max(1, item.stages.length)];
      switch (edit.kind) {
        case 'start':
          if (stage) stage.startTime = edit.value;
          break;
        case 'end':
          if (stage) stage.endTime = edit.value;
          break;
        case 'stage':
          if (stage) stage.status = edit.value;
          break;
        case 'reorder':
          item.stages.reverse();
          break;
        case 'reorderItems':
          out.lineItems.reverse();
          break;
        case 'product':
          item.productName = 'Another name';
          break;
        case 'created':
          out.createdAt = '2026-01-02T00:00:00Z';
          break;
        case 'dropStage':
          item.stages.splice(edit.stage % Math.max(1, item.stages.length), 1);
          break;
        case 'addStage':
          item.stages.push({
            name: edit.value,
            status: 'in_progress',
            startTime: STAGE_TIMES[1] ?? null,
            endTime: null,
          });
          break;
      }
    }
    return out;
  };

  it('any change a diff or a signal would notice changes the fingerprint, until a signal is due', () => {
    let skipped = 0;
    let noticed = 0;
    let restarts = 0;
    fc.assert(
      fc.property(
        orderArb,
        fc.array(editArb, { maxLength: 3 }),
        fc.array(editArb, { maxLength: 3 }),
        settingsArb,
        pick([1, 3, 10]),
        pick([0, 3_600_000, DAY, 3 * DAY, 9 * DAY]),
        (a, earlierEdits, edits, signals, daysBefore, later) => {
          // The snapshot stored with A's fingerprint: A diffed at NOW against an earlier version seen days
          // before, so that its memory holds what fired (roll-ups, due dates, stalls and their start times).
          const earlier = edited(a, earlierEdits);
          const seenAt = NOW - daysBefore * DAY;
          const first = firstSight(earlier, {
            detectedAt: iso(seenAt),
            now: seenAt,
            emit: false,
            ...(signals ? { signals } : {}),
          });
          const stored = detectChanges(first.snapshot, a, {
            detectedAt: iso(NOW),
            now: NOW,
            ...(signals ? { signals } : {}),
          }).snapshot;
          const fa = orderFingerprint(a, signals);
          if (fa === null || !isWatched(stored)) return;
          const dueAt = signals ? nextSignalAt(stored, signals) : null;
          // Nothing is due at the time the snapshot was made (else the order would be read every cycle).
          expect(dueAt === null || dueAt > NOW).toBe(true);

          const b = edited(a, edits);
          const when = NOW + later;
          const detection = detectChanges(stored, b, {
            detectedAt: iso(when),
            now: when,
            ...(signals ? { signals } : {}),
          });
          const changed = detection.events.length > 0 || !sameSnapshot(detection.snapshot, stored);
          if (unchangedSince({ fp: fa, dueAt }, orderFingerprint(b, signals), when)) {
            // What the index lets a cycle skip, the diff would have found nothing in.
            skipped++;
            expect(detection.events).toEqual([]);
            expect(sameSnapshot(detection.snapshot, stored)).toBe(true);
          } else if (changed) noticed++;
          if (changed && Object.keys(stored.starts ?? {}).length > 0 && edits.some((e) => e.kind === 'start'))
            restarts++;
        },
      ),
      { numRuns: 4000, seed: 15 },
    );
    expect(skipped).toBeGreaterThan(800);
    expect(noticed).toBeGreaterThan(800);
    expect(restarts).toBeGreaterThan(50);
  });

  it('changes with the signals’ settings: other limits or another zone may fire what did not', () => {
    const order = newOrder(3);
    const settings: SignalSettings = {
      timeZone: 'UTC',
      dueSoonDays: 7,
      stallDays: 7,
      stallDaysByStage: {},
      riskDays: 1,
    };
    const fingerprints = new Set(
      [
        undefined,
        settings,
        { ...settings, timeZone: 'Europe/London' },
        { ...settings, dueSoonDays: 3 },
        { ...settings, stallDays: 0 },
        { ...settings, stallDaysByStage: { Sewing: 14 } },
      ].map((s) => orderFingerprint(order, s)),
    );
    expect(fingerprints.size).toBe(6);
    const reordered = { ...settings, stallDaysByStage: { Packing: 3, Sewing: 14 } };
    expect(orderFingerprint(order, reordered)).toBe(
      orderFingerprint(order, { ...settings, stallDaysByStage: { Sewing: 14, Packing: 3 } }),
    );
  });

  it('ignores the order in which the API lists stages and what the diff does not read', () => {
    const a = newOrder(3);
    const b = structuredClone(a);
    (b.lineItems[0] as Order['lineItems'][number]).productName = 'Another name';
    b.createdAt = '2026-01-01T00:00:00Z';
    b.lineItems.reverse();
    expect(orderFingerprint(b)).toBe(orderFingerprint(a));
    const c = structuredClone(a);
    c.companyName = 'Other';
    expect(orderFingerprint(c)).not.toBe(orderFingerprint(a));
  });

  it('is null when the snapshot would lose what the diff compares (repeated line item ids, colliding keys)', () => {
    const a = newOrder(3);
    a.lineItems.push(structuredClone(a.lineItems[0] as Order['lineItems'][number]));
    expect(orderFingerprint(a)).toBeNull();
    const b = newOrder(4);
    (b.lineItems[0] as Order['lineItems'][number]).stages = [
      { name: 'Cut', status: 'completed', startTime: '2026-01-01T00:00:00Z', endTime: null },
      { name: 'Cut', status: 'in_progress', startTime: '2026-01-02T00:00:00Z', endTime: null },
      { name: 'Cut#2', status: 'not_started', startTime: null, endTime: null },
    ];
    expect(orderFingerprint(b)).toBeNull();
    expect(orderFingerprint(newOrder(5))).toMatch(/^[0-9a-f]{16}$/);
  });
});

describe('time-based signals', () => {
  it('an order is diffed again once the time its index entry gives has come, and not before', async () => {
    const world = new World(3);
    const file = new FileStateStore(tempStatePath());
    const reads: number[][] = [];
    const store = interceptStore(file, {
      around: (call, phase, args) => {
        if (call === 'getSnapshots' && phase === 'before')
          reads[reads.length - 1]?.push(...(args[0] as number[]));
      },
    });
    let now = Date.UTC(2026, 0, 1);
    const dueAt = now + 10 * 60_000;
    // Order 2 has a signal due at `dueAt`; once diffed after that time, none.
    const nextSignalAt = (snapshot: { order: { id: number } }) =>
      snapshot.order.id === 2 && now < dueAt ? dueAt : null;
    const cycle = async () => {
      now += 60_000;
      reads.push([]);
      return runCycle(
        {
          source: sourceOf(world),
          store,
          sink: { publish: async () => ({ rejected: [] }) },
          now: () => now,
          logger: silentLogger,
          nextSignalAt,
        },
        { owner: 'due', leaseTtlMs: 120_000, budgetMs: 60_000, sweepIntervalMs: 0, emitBaseline: false },
      );
    };
    await cycle(); // baseline
    await cycle(); // builds the index
    expect((await file.readIndex()).get(2)?.dueAt).toBe(dueAt);
    await cycle();
    expect(reads[reads.length - 1]).toEqual([]);
    now = dueAt - 60_000;
    const due = await cycle(); // now === dueAt: its time has come
    expect(reads[reads.length - 1]).toEqual([2]);
    expect(due.unchanged).toBe(2);
    expect((await file.readIndex()).get(2)?.dueAt).toBeNull();
    await cycle();
    expect(reads[reads.length - 1]).toEqual([]);
  });
});
