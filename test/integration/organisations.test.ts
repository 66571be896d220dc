import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { NotifierEvent } from '../../functions/core/events/catalogue.js';
import type { CycleDependencies, CycleOptions } from '../../functions/cycle/cycle.js';
import { runCycle } from '../../functions/cycle/cycle.js';
import type { OrderSource } from '../../functions/cycle/ports.js';
import { silentLogger } from '../../functions/cycle/ports.js';
import { runCheck } from '../../functions/cycle/targeted.js';
import type { OrganisationRuntime } from '../../functions/runtime/organisations.js';
import { buildOrganisationRuntimes } from '../../functions/runtime/organisations.js';
import type { RuntimeSettings } from '../../functions/runtime/runtime.js';
import type { RunningSimulator } from '../../simulator/server.js';
import { checkEvents, checkLedgerCovered } from '../../soak/invariants.js';
import { freshTable } from '../helpers/aws.js';
import { DEFAULT_OPTIONS, tempStatePath } from '../helpers/harness.js';
import {
  changeEveryOrder,
  eventOfLine,
  ledgerOf,
  ORG_A,
  ORG_B,
  ordersOf,
  twoOrganisations,
} from '../helpers/organisations.js';

let sim: RunningSimulator | undefined;
afterEach(async () => {
  await sim?.close();
  sim = undefined;
});

type StateKind = 'file' | 'dynamodb';

/** Two organisations' runtimes on one token, as one deployment or one host has them. */
const runtimesOn = async (server: RunningSimulator, kind: StateKind) => {
  const lines: string[] = [];
  const table = kind === 'dynamodb' ? await freshTable() : undefined;
  const settings: Omit<RuntimeSettings, 'organisationId' | 'credentials' | 'several'> = {
    apiUrl: server.url,
    state: table ? { kind: 'dynamodb', tableName: table.tableName } : { kind: 'file', path: tempStatePath() },
    sink: { kind: 'stdout', pretty: false, write: (line) => lines.push(line) },
    source: 'uphance.production-orders',
    requestTimeoutMs: 5_000,
    // Both stores: the table's lease on the credentials, and the host's (a command line has both).
    hostLockDir: mkdtempSync(join(tmpdir(), 'uphance-notifier-locks-')),
  };
  const organisations = buildOrganisationRuntimes(
    settings,
    [ORG_A, ORG_B],
    () => ({ kind: 'token', token: 'sim-token' }),
    silentLogger,
    table ? { dynamodb: table.client } : undefined,
  );
  const runtimeOf = (id: number) => {
    const found = organisations.find((o) => o.organisationId === id) as OrganisationRuntime;
    if (!found.runtime) throw found.error;
    return found.runtime;
  };
  const events = () => lines.map(eventOfLine);
  return { runtimeOf, events, lines };
};

const options = (owner: string, overrides: Partial<CycleOptions> = {}): CycleOptions => ({
  ...DEFAULT_OPTIONS,
  owner,
  ...overrides,
});

/**
 * A source that calls `after` once its first page was handed over, and waits for it before it asks for the
 * next page (so that whatever `after` does happens between two of this run's requests).
 */
const afterFirstPage = (source: OrderSource, after: () => Promise<unknown>): OrderSource => {
  let fired = false;
  return {
    ...source,
    lookup: source.lookup.bind(source),
    ...(source.findByNumber ? { findByNumber: source.findByNumber.bind(source) } : {}),
    async *scan(query, bounds) {
      for await (const page of source.scan(query, bounds)) {
        yield page;
        if (!fired) {
          fired = true;
          await after();
        }
      }
    },
  };
};

/** Every event is of its organisation's orders and says so; none removes an order. */
const expectOwnOrders = (events: NotifierEvent[], server: RunningSimulator) => {
  const ownerOf = new Map<number, number>();
  for (const id of ordersOf(server, ORG_A)) ownerOf.set(id, ORG_A);
  for (const id of ordersOf(server, ORG_B)) ownerOf.set(id, ORG_B);
  for (const event of events) {
    expect(event.detail.organisationId).toBe(ownerOf.get(event.detail.order.id));
  }
  expect(events.filter((e) => e.detailType === 'OrderRemoved')).toEqual([]);
};

describe.each<StateKind>(['file', 'dynamodb'])('two organisations on one token (%s state)', (kind) => {
  it('a cycle for B and a check for A that starts after B’s first page never mix them', async () => {
    sim = await twoOrganisations(120, { perPage: 20 });
    const server = sim;
    const { runtimeOf, events } = await runtimesOn(server, kind);
    const a = runtimeOf(ORG_A);
    const b = runtimeOf(ORG_B);
    const deps = (runtime: typeof a): CycleDependencies => ({
      ...runtime.deps,
      now: Date.now,
      logger: silentLogger,
    });
    expect((await runCycle(deps(a), options('cycle-a'))).outcome).toBe('completed');
    expect((await runCycle(deps(b), options('cycle-b'))).outcome).toBe('completed');
    expect(events()).toEqual([]);
    const from = server.state.ledger.length;
    changeEveryOrder(server, 1);
    const numbersOfA = ordersOf(server, ORG_A)
      .slice(0, 5)
      .map((id) => String(server.state.get(id).raw.production_order_number));

    // B goes on once A's check has either run (nothing kept them apart) or been told to wait its turn.
    let refused: () => void = () => {};
    const toldToWait = new Promise<void>((resolve) => {
      refused = resolve;
    });
    const credentialsOfA = (a.deps.credentials ?? []).map((lease) => ({
      ...lease,
      acquire: async (claim: Parameters<typeof lease.acquire>[0]) => {
        const outcome = await lease.acquire(claim);
        if (outcome.kind === 'held') refused();
        return outcome;
      },
      takeOver: lease.takeOver.bind(lease),
      release: lease.release.bind(lease),
    }));
    let check: Promise<Awaited<ReturnType<typeof runCheck>>> | undefined;
    const cycle = await runCycle(
      {
        ...deps(b),
        source: afterFirstPage(b.deps.source, () => {
          // Each run selects its organisation first, as every runner does.
          a.client.reselectOrganisation();
          check = runCheck(
            { ...deps(a), credentials: credentialsOfA },
            options('check-a', { credentialsWaitMs: 60_000 }),
            numbersOfA,
          );
          return Promise.race([check, toldToWait]);
        }),
      },
      options('cycle-b'),
    );
    const checked = await (check as NonNullable<typeof check>);
    expect(cycle.outcome).toBe('completed');
    // The check waited for B's cycle to give the credentials back, then checked A's orders.
    expect(checked.outcome).toBe('completed');
    expect(checked.waitedMs).toBeGreaterThan(0);
    expect(checked.checked).toEqual(numbersOfA);
    // Taking turns, neither run had a page answered for the other organisation.
    expect(a.apiStats.foreignPages + b.apiStats.foreignPages).toBe(0);
    expectOwnOrders(events(), server);
    // B's cycle delivered every change of B's; A's check those of the orders it checked.
    const published = events();
    expect(checkLedgerCovered(ledgerOf(server, ORG_B, from), 0, published)).toEqual([]);
    expect(checkEvents(published).violations).toEqual([]);
    // A's next cycle delivers the rest of A's, and nothing of B's is left in A's state or the other way.
    expect((await runCycle(deps(a), options('cycle-a'))).outcome).toBe('completed');
    expect(checkLedgerCovered(ledgerOf(server, ORG_A, from), 0, events())).toEqual([]);
    expectOwnOrders(events(), server);
    for (const [runtime, id] of [
      [a, ORG_A],
      [b, ORG_B],
    ] as const) {
      const ids: number[] = [];
      for await (const batch of runtime.store.listSnapshotIds()) ids.push(...batch);
      expect(ids.sort()).toEqual(ordersOf(server, id).sort());
      expect((await runtime.store.getCheckpoint())?.organisationId).toBe(id);
    }
  });

  it('without turns, the check on every page keeps them apart: a foreign page is refused and asked again', async () => {
    sim = await twoOrganisations(120, { perPage: 20 });
    const server = sim;
    const { runtimeOf, events } = await runtimesOn(server, kind);
    const a = runtimeOf(ORG_A);
    const b = runtimeOf(ORG_B);
    // No lease on the credentials: only the second wall stands.
    const deps = (runtime: typeof a): CycleDependencies => ({
      ...runtime.deps,
      credentials: [],
      now: Date.now,
      logger: silentLogger,
    });
    await runCycle(deps(a), options('cycle-a'));
    await runCycle(deps(b), options('cycle-b'));
    const from = server.state.ledger.length;
    changeEveryOrder(server, 2);
    const selections = () => server.counts['POST /organisations/set_current_org'] ?? 0;
    const before = selections();
    b.client.reselectOrganisation();
    const numbersOfA = ordersOf(server, ORG_A)
      .slice(0, 3)
      .map((id) => String(server.state.get(id).raw.production_order_number));
    let check: Promise<unknown> | undefined;
    const cycle = await runCycle(
      {
        ...deps(b),
        source: afterFirstPage(b.deps.source, () => {
          // Each run selects its organisation first, as every runner does; A's check runs whole between
          // two of B's pages, so B's next page is asked for while A is the token's organisation.
          a.client.reselectOrganisation();
          check = runCheck(deps(a), options('check-a'), numbersOfA).catch((error: Error) => error);
          return check;
        }),
      },
      options('cycle-b'),
    ).catch((error: Error) => error);
    await check;
    // Whatever the interleaving did, nothing of one organisation reached the other's events or state.
    expectOwnOrders(events(), server);
    expect(checkEvents(events()).violations).toEqual([]);
    // B had to select its organisation again at least once (A's check selected A in between).
    expect(selections() - before).toBeGreaterThanOrEqual(2);
    if (!(cycle instanceof Error)) {
      expect(checkLedgerCovered(ledgerOf(server, ORG_B, from), 0, events())).toEqual([]);
    } else {
      expect(cycle.message).toMatch(/organisation 35802 while organisation 35803 was selected/);
    }
    const ids: number[] = [];
    for await (const batch of b.store.listSnapshotIds()) ids.push(...batch);
    expect(ids.sort()).toEqual(ordersOf(server, ORG_B).sort());
  });
});

describe('a selection another runner changes behind a run’s back', () => {
  it('never turns into OrderRemoved: an order not found is looked for again after selecting ours', async () => {
    // B has watched orders; A none, so A's answers are empty pages that name no organisation.
    const { startSimulator } = await import('../../simulator/server.js');
    const { generateOrders } = await import('../../simulator/generator.js');
    sim = await startSimulator({
      organisations: [
        { id: ORG_A, name: 'Woah2 Fashion' },
        { id: ORG_B, name: 'Second Label' },
      ],
      orders: generateOrders({ count: 8, seed: 3, firstId: 41_000, watchedShare: 1, organisationId: ORG_B }),
      perPage: 2,
    });
    const server = sim;
    const { runtimeOf, events } = await runtimesOn(server, 'file');
    const b = runtimeOf(ORG_B);
    const deps: CycleDependencies = { ...b.deps, now: Date.now, logger: silentLogger };
    expect((await runCycle(deps, options('cycle-b'))).outcome).toBe('completed');
    // A runner that shares no lease with this one (another host's command line) selects A mid-run.
    const selectA = () =>
      fetch(`${server.url}/organisations/set_current_org`, {
        method: 'POST',
        headers: { authorization: 'Bearer sim-token', 'content-type': 'application/json' },
        body: JSON.stringify({ organizationId: ORG_A }),
      });
    const report = await runCycle(
      { ...deps, source: afterFirstPage(b.deps.source, () => selectA()) },
      options('cycle-b'),
    );
    expect(report.outcome).toBe('completed');
    expect(report.lookups).toBeGreaterThan(0);
    expect(events()).toEqual([]);
    const ids: number[] = [];
    for await (const batch of b.store.listSnapshotIds()) ids.push(...batch);
    const snapshots = await b.store.getSnapshots(ids);
    expect([...snapshots.values()].filter((s) => s.snapshot.removed)).toEqual([]);
  });
});
