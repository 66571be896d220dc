import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { FileStateStore } from '../../functions/adapters/file/state-store.js';
import { TRUNCATION_MARKER } from '../../functions/core/bounds.js';
import type { CycleStep } from '../../functions/cycle/commit.js';
import { CommitReplayError } from '../../functions/cycle/commit.js';
import type { CycleReport } from '../../functions/cycle/cycle.js';
import { LeaseLostError, WriteRefusedError } from '../../functions/cycle/errors.js';
import type { StateWrites } from '../../functions/cycle/records.js';
import { commitIdOf } from '../../functions/cycle/records.js';
import { vendorExampleOrders } from '../../simulator/fixtures.js';
import { generateOrders } from '../../simulator/generator.js';
import type { RunningSimulator } from '../../simulator/server.js';
import { startSimulator } from '../../simulator/server.js';
import { hasWorkLeft } from '../../simulator/state.js';
import { interceptStore } from '../../soak/intercept.js';
import { notifierFor, tempStatePath } from '../helpers/harness.js';
import { types } from '../helpers/orders.js';

let sim: RunningSimulator | undefined;
afterEach(async () => {
  await sim?.close();
  sim = undefined;
});

/** An account of large orders (30 line items each), so that one commit spans several journal parts. */
const largeAccount = async () => {
  sim = await startSimulator({
    orders: [
      ...vendorExampleOrders(),
      ...generateOrders({ count: 12, seed: 5, watchedShare: 0.8, lineItems: 24 }),
    ],
  });
  return sim;
};

const busyOrders = (s: RunningSimulator) =>
  [...s.state.orders.values()].filter((o) => o.lineItems.filter(hasWorkLeft).length > 10).slice(0, 3);

/** Moves every line item of a few large orders one stage on: dozens of events in one commit. */
const moveLargeOrders = (s: RunningSimulator) => {
  for (const order of busyOrders(s))
    for (const item of order.lineItems) s.state.advanceStage(order.raw.id, item.raw.id as number);
};

const SMALL_PARTS = { journalPartBytes: 4_000 };

describe('multi-part commits', () => {
  it('a crash at every write of a multi-part commit, then more changes before the rerun: nothing lost, no sequence reused', async () => {
    // Which writes one such commit makes, on a seeded account.
    const probe = await largeAccount();
    const p = notifierFor(probe);
    await p.run(SMALL_PARTS);
    moveLargeOrders(probe);
    const steps: CycleStep[] = [];
    await p.run({ ...SMALL_PARTS, onStep: (step) => void steps.push(step) });
    const parts = steps.filter((s) => s === 'journal-part-written').length;
    expect(parts).toBeGreaterThan(3);
    await probe.close();
    sim = undefined;

    for (let kill = 0; kill < steps.length; kill++) {
      const s = await largeAccount();
      const n = notifierFor(s);
      await n.run(SMALL_PARTS);
      const from = s.state.ledger.length;
      moveLargeOrders(s);
      let seen = 0;
      const crashed = await n
        .run({
          ...SMALL_PARTS,
          onStep: () => {
            if (seen++ !== kill) return;
            // A dead process releases nothing: its lease stays until it expires.
            n.store.state.killed = true;
            throw new Error(`crash at write ${kill} (${steps[kill]})`);
          },
        })
        .then(
          () => false,
          () => true,
        );
      expect(crashed).toBe(true);
      n.clock.advance(600_000);
      // The orders move on before the rerun: a half-promised commit must not lend its numbers to them.
      moveLargeOrders(s);
      await n.run(SMALL_PARTS);
      await n.run(SMALL_PARTS);
      const check = await n.verify(from);
      expect(check.violations, `crash at write ${kill} (${steps[kill]})`).toEqual([]);
      await s.close();
      sim = undefined;
    }
  }, 120_000);

  it('a stale runner resumed after a takeover mid-commit writes nothing more; the new holder reports once', async () => {
    const s = await largeAccount();
    const n = notifierFor(s);
    await n.run(SMALL_PARTS);
    const from = s.state.ledger.length;
    moveLargeOrders(s);
    let takeover: CycleReport | undefined;
    let parts = 0;
    const stale = n.run({
      ...SMALL_PARTS,
      owner: 'frozen-runner',
      leaseTtlMs: 1_000,
      onStep: async (step) => {
        // Frozen after its second journal part, past its lease; another runner takes over meanwhile.
        if (step === 'journal-part-written' && ++parts === 2) {
          n.clock.advance(5_000);
          takeover = await n.run({ ...SMALL_PARTS, owner: 'fresh-runner' });
        }
      },
    });
    await expect(stale).rejects.toThrow(LeaseLostError);
    expect(takeover?.outcome).toBe('completed');
    expect(takeover?.events).toBeGreaterThan(20);
    await n.run(SMALL_PARTS);
    const check = await n.verify(from);
    expect(check.violations).toEqual([]);
    // The frozen runner published nothing: every event was delivered once.
    expect(check.duplicates).toBe(0);
    const journal = await n.store.readJournal();
    expect(journal).toEqual({ parts: [], seals: [] });
  });
});

describe('a commit the store refuses for good', () => {
  /** A file store that refuses the writes `refuse` picks, as DynamoDB refuses a request it never accepts. */
  const refusingStore = () => {
    const calls: StateWrites[] = [];
    const control = { refuse: (_writes: StateWrites): boolean => false };
    const store = interceptStore(new FileStateStore(tempStatePath()), {
      around: (call, phase, args) => {
        if (call !== 'applyWrites' || phase !== 'before') return;
        const writes = args[1] as StateWrites;
        calls.push(writes);
        if (control.refuse(writes)) throw new WriteRefusedError('ValidationException: refused');
      },
    });
    return { store, calls, control };
  };

  it('refused as packed, a journaled commit is written one item at a time at once: published once, nothing lost', async () => {
    sim = await startSimulator({
      orders: [...vendorExampleOrders(), ...generateOrders({ count: 30, seed: 4 })],
    });
    const { store, calls, control } = refusingStore();
    const n = notifierFor(sim, { store });
    await n.run();
    const from = sim.state.ledger.length;
    sim.state.advanceStage(23621);
    control.refuse = (writes) => writes.commit !== null && !writes.singly;
    const before = calls.length;
    const report = await n.run();
    expect(report.outcome).toBe('completed');
    expect(report.events).toBeGreaterThan(0);
    const journaled = calls.slice(before).filter((w) => w.commit !== null);
    expect(journaled.map((w) => [w.replay, w.singly ?? false])).toEqual([
      [false, false],
      [true, true],
    ]);
    expect(await n.store.readJournal()).toEqual({ parts: [], seals: [] });
    const check = await n.verify(from);
    expect(check.violations).toEqual([]);
    expect(check.duplicates).toBe(0);
  });

  it('refused item by item too: the commit stays sealed, each cycle fails naming it, and it is finished once accepted', async () => {
    sim = await startSimulator({
      orders: [...vendorExampleOrders(), ...generateOrders({ count: 30, seed: 4 })],
    });
    const { store, control } = refusingStore();
    const n = notifierFor(sim, { store });
    await n.run();
    const from = sim.state.ledger.length;
    sim.state.advanceStage(23621);
    control.refuse = (writes) => writes.commit !== null;
    const first = await n.run().catch((e: unknown) => e);
    const [seal] = (await n.store.readJournal()).seals;
    expect(seal).toBeDefined();
    const id = commitIdOf(seal!);
    expect((first as Error).message).toBe(
      `commit ${id} (sealed: the next cycle replays it): ValidationException: refused; then one item at a time: ValidationException: refused`,
    );
    expect(n.memory.published).toEqual([]);
    const journaled = (await n.store.readJournal()).parts.flatMap((p) =>
      p.events.map((e) => e.detail.eventId),
    );
    for (let cycle = 0; cycle < 2; cycle++) {
      const error = await n.run().catch((e: unknown) => e);
      expect(error).toBeInstanceOf(CommitReplayError);
      expect((error as Error).message).toMatch(
        new RegExp(
          `^sealed commit ${id.replace('.', '\\.')} could not be replayed: ValidationException: refused; then one item at a time: ValidationException: refused\\. It stays in the journal`,
        ),
      );
      expect((await n.store.readJournal()).seals.map(commitIdOf)).toEqual([id]);
      expect(n.memory.published).toEqual([]);
    }
    control.refuse = () => false;
    const report = await n.run();
    expect(report.republished).toBe(journaled.length);
    expect(n.memory.published.map((e) => e.detail.eventId).slice(0, journaled.length)).toEqual(journaled);
    const check = await n.verify(from);
    expect(check.violations).toEqual([]);
    expect(check.duplicates).toBe(0);
  });
});

describe('lease takeover', () => {
  it('a lease held by a process that no longer runs is taken over at once; a live holder is named', async () => {
    sim = await startSimulator({
      orders: [...vendorExampleOrders(), ...generateOrders({ count: 40, seed: 8 })],
    });
    const dead = { owner: 'host-a:101', host: 'host-a', pid: 101 };
    let abandoned = false;
    const n = notifierFor(sim, { isAbandoned: (holder) => abandoned && holder.pid === dead.pid });
    await n.run();
    const from = sim.state.ledger.length;
    sim.state.advanceStage(23621);
    sim.state.setDueDate(23620, '2027-01-15');
    await n
      .run({ ...dead, crashAt: 'published', leaseTtlMs: 3_600_000 })
      .catch((e: Error) => expect(e.name).toBe('Crash'));
    // The crashed process still "runs": the rerun is told who holds the lease and until when.
    const held = await n.run({ owner: 'host-a:202', host: 'host-a', pid: 202 });
    expect(held.outcome).toBe('lease-held');
    expect(held.holder).toMatchObject({ owner: 'host-a:101', pid: 101 });
    // It died: the rerun takes over at once, without waiting an hour, and finishes its commit.
    abandoned = true;
    const rerun = await n.run({ owner: 'host-a:303', host: 'host-a', pid: 303 });
    expect(rerun.outcome).toBe('completed');
    expect(rerun.tookOverFrom).toMatchObject({ owner: 'host-a:101' });
    expect(rerun.republished).toBe(2);
    expect((await n.verify(from)).violations).toEqual([]);
  });
});

describe('deadlines', () => {
  it('a slow API near the deadline: the cycle stops fetching, commits what is whole and ends before its deadline', async () => {
    sim = await startSimulator({
      orders: [...vendorExampleOrders(), ...generateOrders({ count: 300, seed: 3, watchedShare: 0.5 })],
    });
    const n = notifierFor(sim, { requestMs: 20_000 });
    await n.run({ budgetMs: 10_000_000 });
    const from = sim.state.ledger.length;
    const [first] = [...sim.state.orders.values()].filter(
      (o) => ['DRAFT', 'CONFIRMED'].includes(o.raw.status) && o.lineItems.some(hasWorkLeft),
    );
    sim.state.advanceStage(first!.raw.id);
    const report = await n.run({ budgetMs: 50_000, deadlineMs: 110_000 });
    expect(report.outcome).toBe('budget-exhausted');
    expect(report.durationMs).toBeLessThanOrEqual(110_000);
    // Rate limited with a Retry-After longer than what is left: not waited for, the cycle ends cleanly.
    sim.faults.next({ kind: 'rate_limit', retryAfter: '100', path: '/production_orders' });
    const limited = await n.run({ budgetMs: 50_000, deadlineMs: 110_000 });
    expect(limited.outcome).toBe('budget-exhausted');
    expect(limited.durationMs).toBeLessThanOrEqual(110_000);
    expect(sim.faults.injected.rate_limit).toBe(1);
    for (let i = 0; i < 12; i++) await n.run({ budgetMs: 50_000, deadlineMs: 110_000 });
    expect((await n.verify(from)).violations).toEqual([]);
  });
});

describe('large accounts', () => {
  it('a watched set ten times what one budget scans: rounds resume, changes and new orders are all reported', async () => {
    sim = await startSimulator({
      orders: [...vendorExampleOrders(), ...generateOrders({ count: 500, seed: 13, watchedShare: 0.85 })],
    });
    // 1.5 s a request and a 5 s budget: about three requests a cycle, for a watched set of 9+ pages.
    const n = notifierFor(sim, { requestMs: 1_500 });
    await n.run({ budgetMs: 10_000_000, sweepIntervalMs: 0 });
    const from = sim.state.ledger.length;
    const open = [...sim.state.orders.values()]
      .filter((o) => ['DRAFT', 'CONFIRMED'].includes(o.raw.status) && o.lineItems.some(hasWorkLeft))
      .sort((a, b) => a.raw.id - b.raw.id);
    expect(open.length).toBeGreaterThan(400);
    const oldest = open[0]!;
    sim.state.advanceStage(oldest.raw.id);
    // Orders that leave the watched set (gone) must be looked up although the round takes every budget.
    const leaving = open.slice(200, 215).map((o) => o.raw.id);
    for (const id of leaving) sim.state.delete(id);
    const reportedAfter = new Map<string, number>();
    const options = { budgetMs: 5_000, deadlineMs: 30_000, sweepIntervalMs: 0 };
    for (let cycle = 1; cycle <= 30; cycle++) {
      if (cycle === 3) {
        sim.state.create(
          generateOrders({ count: 1, firstId: 99_000, firstNumber: 9_900, watchedShare: 1, seed: 2 })[0]!,
        );
      }
      const report = await n.run(options);
      expect(report.ordersScanned).toBeLessThan(200);
      for (const e of n.memory.published) {
        const key = `${e.detailType}:${e.detail.order.id}`;
        if (!reportedAfter.has(key)) reportedAfter.set(key, cycle);
      }
    }
    const stage = [...reportedAfter].find(
      ([k]) => k.endsWith(`:${oldest.raw.id}`) && !k.startsWith('OrderCreated'),
    );
    expect(stage).toBeDefined();
    // The new order comes first in every cycle: reported by the cycle that follows its creation.
    expect(reportedAfter.get('OrderCreated:99000')).toBe(3);
    const removed = leaving.map((id) => reportedAfter.get(`OrderRemoved:${id}`));
    expect(removed.every((cycle) => cycle !== undefined && cycle <= 30)).toBe(true);
    expect((await n.verify(from)).violations).toEqual([]);
  });

  it('a reconciliation sweep that spans several cycles still concludes a removal', async () => {
    sim = await startSimulator({
      orders: [...vendorExampleOrders(), ...generateOrders({ count: 400, seed: 4 })],
    });
    const n = notifierFor(sim, { requestMs: 1_500 });
    await n.run({ budgetMs: 10_000_000, sweepIntervalMs: 3_600_000 });
    const from = sim.state.ledger.length;
    // An order nobody watches (complete, all received, nothing left to do): only the sweep can see it go.
    const gone = [...sim.state.orders.values()].find(
      (o) =>
        o.raw.status === 'COMPLETE' &&
        o.raw.delivery_status === 'All Received' &&
        !o.lineItems.some(hasWorkLeft) &&
        o.raw.id > 30_300,
    )!;
    sim.state.delete(gone.raw.id);
    n.clock.advance(3_600_000);
    const sweeps: string[] = [];
    for (let i = 0; i < 10 && !types(n.memory.published).includes('OrderRemoved'); i++) {
      const r = await n.run({ budgetMs: 5_000, deadlineMs: 30_000, sweepIntervalMs: 3_600_000 });
      sweeps.push(r.sweep);
    }
    expect(sweeps.filter((s) => s === 'partial').length, JSON.stringify(sweeps)).toBeGreaterThan(1);
    expect(
      n.memory.published.filter((e) => e.detailType === 'OrderRemoved').map((e) => e.detail.order.id),
    ).toEqual([gone.raw.id]);
    expect((await n.verify(from)).violations).toEqual([]);
  });
});

describe('deadline during a publish', () => {
  it('a retry that would outlast the deadline ends the cycle cleanly; the sealed commit is finished next time', async () => {
    sim = await startSimulator({
      orders: [...vendorExampleOrders(), ...generateOrders({ count: 30, seed: 9 })],
    });
    const n = notifierFor(sim);
    await n.run();
    const from = sim.state.ledger.length;
    sim.state.advanceStage(23621);
    const { DeadlineExceededError } = await import('../../functions/cycle/errors.js');
    const publish = n.memory.publish.bind(n.memory);
    n.memory.publish = async () => {
      throw new DeadlineExceededError('the cycle’s deadline came before PutEvents accepted 1 event(s)');
    };
    const cut = await n.run();
    expect(cut.outcome).toBe('deadline');
    expect((await n.store.readJournal()).seals).toHaveLength(1);
    n.memory.publish = publish;
    const next = await n.run();
    expect(next.republished).toBe(1);
    expect((await n.verify(from)).violations).toEqual([]);
  });
});

describe('poison orders and refused events', () => {
  it('an order with a megabyte-long value is reported with the value cut and a marker; the others go on', async () => {
    sim = await startSimulator({
      orders: [...vendorExampleOrders(), ...generateOrders({ count: 30, seed: 9 })],
    });
    const n = notifierFor(sim);
    await n.run();
    const poison = generateOrders({
      count: 1,
      firstId: 97_000,
      firstNumber: 9_700,
      watchedShare: 1,
      seed: 3,
    })[0]!;
    poison.raw.company_name = 'Ateliers '.repeat(120_000);
    sim.state.create(poison);
    sim.state.advanceStage(23621);
    const report = await n.run();
    expect(report.outcome).toBe('completed');
    const created = n.memory.published.find((e) => e.detailType === 'OrderCreated');
    expect(created?.detail.order.companyName?.endsWith(TRUNCATION_MARKER)).toBe(true);
    expect(created?.detail.order.companyName?.length).toBe(500);
    expect(types(n.memory.published)).toContain('StageCompleted');
  });

  it('an event the bus refuses for good is set aside, never blocks the others, and the resend command delivers it', async () => {
    sim = await startSimulator({
      orders: [...vendorExampleOrders(), ...generateOrders({ count: 30, seed: 9 })],
    });
    const path = tempStatePath();
    const n = notifierFor(sim, { store: new FileStateStore(path) });
    await n.run();
    n.memory.refuseIf = (e) => e.detailType === 'OrderDueDateChanged';
    sim.state.setDueDate(23620, '2027-02-02');
    sim.state.advanceStage(23621);
    const report = await n.run();
    expect(report).toMatchObject({ outcome: 'completed', setAside: 1 });
    expect(types(n.memory.published)).toEqual(['StageCompleted']);
    const aside = await new FileStateStore(path).listSetAside();
    expect(aside.map((a) => [a.event.detailType, a.reason])).toEqual([
      ['OrderDueDateChanged', 'MalformedDetail: refused'],
    ]);
    expect((await n.store.readJournal()).seals).toEqual([]);
    // Nothing is detected again: the next cycle is quiet.
    expect((await n.run()).events).toBe(0);

    const { runResend } = await import('../../functions/cli/resend.js');
    const lines: string[] = [];
    const code = await runResend(
      { state: path, json: true },
      {
        env: {},
        stdout: (l) => lines.push(l),
        isTty: false,
        logger: { debug() {}, info() {}, warn() {}, error() {} },
      },
    );
    expect(code).toBe(0);
    expect(lines.map((l) => JSON.parse(l)['detail-type'])).toEqual(['OrderDueDateChanged']);
    expect(await new FileStateStore(path).listSetAside()).toEqual([]);
  });
});

describe('file store lock', () => {
  it('is broken when its holder no longer runs, never by age alone while it runs', async () => {
    const path = tempStatePath();
    const store = new FileStateStore(path);
    const lock = `${path}.lease.lock`;
    const { hostname } = await import('node:os');
    const { utimesSync } = await import('node:fs');
    // An old lock of a live process (this one): the acquisition waits for it.
    writeFileSync(lock, JSON.stringify({ token: 'live', host: hostname(), pid: process.pid }));
    const old = new Date(Date.now() - 3_600_000);
    utimesSync(lock, old, old);
    let done = false;
    const acquiring = store.acquireLease({ owner: 'b', nowMs: 1_000, ttlMs: 60_000 }).then((o) => {
      done = true;
      return o;
    });
    await new Promise((r) => setTimeout(r, 100));
    expect(done).toBe(false);
    // Its holder died (a pid that does not run): the lock is broken at once.
    writeFileSync(lock, JSON.stringify({ token: 'dead', host: hostname(), pid: 2 ** 22 + 12_345 }));
    expect((await acquiring).kind).toBe('acquired');
    expect(existsSync(lock)).toBe(false);
  });
});

describe('file store lease', () => {
  it('releases the lease under its lock: a release waits for a writer holding the lock', async () => {
    const path = tempStatePath();
    const store = new FileStateStore(path);
    const outcome = await store.acquireLease({ owner: 'a', nowMs: 1_000, ttlMs: 60_000 });
    if (outcome.kind !== 'acquired') throw new Error('not acquired');
    const lock = `${path}.lease.lock`;
    writeFileSync(lock, '');
    let released = false;
    const release = store.releaseLease(outcome.lease).then(() => {
      released = true;
    });
    await new Promise((r) => setTimeout(r, 50));
    expect(released).toBe(false);
    expect(JSON.parse(readFileSync(`${path}.lease`, 'utf8')).lease.owner).toBe('a');
    const { rmSync } = await import('node:fs');
    rmSync(lock);
    await release;
    expect(JSON.parse(readFileSync(`${path}.lease`, 'utf8')).lease).toBeNull();
    expect(existsSync(lock)).toBe(false);
  });
});
