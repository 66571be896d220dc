import { describe, expect, it } from 'vitest';
import { emptyCheckpoint } from '../../functions/cycle/cycle.js';
import { OrganisationMismatchError } from '../../functions/cycle/errors.js';
import { OrganisationGuard } from '../../functions/cycle/organisation-guard.js';
import type { Checkpoint } from '../../functions/cycle/records.js';
import { ConfigError } from '../../functions/runtime/config.js';
import type { Discovery, StateLocation, StateSetting } from '../../functions/runtime/state-location.js';
import { locateState } from '../../functions/runtime/state-location.js';

const FILE = { kind: 'file', path: '/s/state.json' } as const;
const TABLE = { kind: 'dynamodb', tableName: 't' } as const;

/** An order a state holds, and whose it is (for the fake discovery). */
const ORDERS: Record<number, { number: string; organisationId: number }> = {
  1: { number: 'PO1', organisationId: 35802 },
  2: { number: 'PO2', organisationId: 35802 },
  3: { number: 'PO3', organisationId: 35803 },
};

/**
 * States that exist, by place (`/s/state.json`, `/s/state.35802.json`, `default`, `35802`): whose they are
 * recorded to be ('unrecorded': written before organisations were) and the orders they hold.
 */
type Existing = Record<string, { owner: number | 'unrecorded'; orders?: number[] }>;

const places = (existing: Existing) => (location: StateLocation) => {
  const key = location.kind === 'file' ? location.path : location.partition;
  const place = existing[key];
  return {
    getCheckpoint: async (): Promise<Checkpoint | undefined> =>
      place === undefined
        ? undefined
        : {
            ...emptyCheckpoint(),
            baselineAt: 'x',
            watched: place.orders ?? [],
            ...(place.owner === 'unrecorded' ? {} : { organisationId: place.owner }),
          },
    getSnapshots: async (ids: number[]) =>
      new Map(
        ids.map((id) => [id, { rev: 1, snapshot: { order: { number: ORDERS[id]?.number } } }]),
      ) as never,
    listSnapshotIds: async function* () {
      yield place?.orders ?? [];
    },
  };
};

/** Uphance as the organisation polled (`polled`) sees it; `current` is whose the credentials answer for. */
const discovery = (polled: number | undefined, current?: number): Discovery => ({
  ownsSomeOf: async (orders) => orders.some((o) => ORDERS[o.id]?.organisationId === polled),
  currentOrganisation: async () => current,
});

const where = async (
  setting: StateSetting,
  organisationId: number | undefined,
  several: boolean,
  existing: Existing,
  ask: Discovery | undefined,
) => {
  const located = await locateState(setting, organisationId, several, places(existing), ask);
  const key = located.location.kind === 'file' ? located.location.path : located.location.partition;
  return `${key}${located.organisationId === undefined ? '' : ` (for ${located.organisationId})`}`;
};

const A = (orders?: number[]) => ({ owner: 35802, ...(orders ? { orders } : {}) });
const unrecorded = (orders: number[] = []) => ({ owner: 'unrecorded' as const, orders });

describe('finding an organisation’s state across configuration changes', () => {
  it.each([
    // [what happened, setting, organisation, several, states that exist, where its state is]
    ['unnamed, as always', FILE, undefined, false, { '/s/state.json': A() }, '/s/state.json'],
    [
      'naming the organisation that was polled unnamed',
      FILE,
      35802,
      false,
      { '/s/state.json': A() },
      '/s/state.json',
    ],
    [
      'naming it, a state from before organisations were recorded: its orders are found',
      FILE,
      35802,
      false,
      { '/s/state.json': unrecorded([1, 2]) },
      '/s/state.json',
    ],
    [
      'adding a second organisation: the first keeps its state',
      FILE,
      35802,
      true,
      { '/s/state.json': A() },
      '/s/state.json',
    ],
    [
      'adding a second organisation: the second starts its own',
      FILE,
      35803,
      true,
      { '/s/state.json': A() },
      '/s/state.35803.json',
    ],
    [
      'back to one organisation: it keeps the state it had among several',
      FILE,
      35803,
      false,
      { '/s/state.json': A(), '/s/state.35803.json': { owner: 35803 } },
      '/s/state.35803.json',
    ],
    ['a first run, one organisation', FILE, 35802, false, {}, '/s/state.json'],
    ['a first run, several', FILE, 35802, true, {}, '/s/state.35802.json'],
    [
      'upgrading and adding one at once: the unrecorded state goes to the one whose orders it holds',
      FILE,
      35802,
      true,
      { '/s/state.json': unrecorded([1, 2]) },
      '/s/state.json',
    ],
    [
      '… and not to the other',
      FILE,
      35803,
      true,
      { '/s/state.json': unrecorded([1, 2]) },
      '/s/state.35803.json',
    ],
    [
      '… an unrecorded state without orders is no one’s among several',
      FILE,
      35802,
      true,
      { '/s/state.json': unrecorded() },
      '/s/state.35802.json',
    ],
    [
      'table: naming the organisation that was polled unnamed',
      TABLE,
      35802,
      false,
      { default: A() },
      'default',
    ],
    [
      'table: naming it, unrecorded, its orders found',
      TABLE,
      35802,
      false,
      { default: unrecorded([1]) },
      'default',
    ],
    [
      'table: unrecorded and not its orders: its own partition',
      TABLE,
      35803,
      false,
      { default: unrecorded([1]) },
      '35803',
    ],
    [
      'table: the organisation’s own partition first',
      TABLE,
      35802,
      false,
      { default: A(), '35802': A() },
      '35802',
    ],
    [
      'table: another organisation’s unnamed state is left alone',
      TABLE,
      35803,
      false,
      { default: A() },
      '35803',
    ],
    ['table: a first run', TABLE, 35802, false, {}, '35802'],
    [
      'table: no longer named: the credentials’ organisation has its own partition',
      TABLE,
      undefined,
      false,
      { '35802': A() },
      '35802 (for 35802)',
    ],
    [
      'table: unnamed, a first run: the base, its organisation learnt',
      TABLE,
      undefined,
      false,
      {},
      'default (for 35802)',
    ],
    [
      'file: no longer named, from several: the credentials’ organisation has its own file',
      FILE,
      undefined,
      false,
      { '/s/state.35802.json': A() },
      '/s/state.35802.json (for 35802)',
    ],
  ] as const)('%s', async (_what, setting, organisationId, several, existing, expected) => {
    const ask = organisationId === undefined ? discovery(undefined, 35802) : discovery(organisationId);
    expect(await where(setting, organisationId, several, existing, ask)).toBe(expected);
  });

  it('read-only commands, which cannot ask Uphance, take an unrecorded state only for a single organisation', async () => {
    expect(await where(FILE, 35802, false, { '/s/state.json': unrecorded([1]) }, undefined)).toBe(
      '/s/state.json',
    );
    expect(await where(FILE, 35802, true, { '/s/state.json': unrecorded([1]) }, undefined)).toBe(
      '/s/state.35802.json',
    );
  });

  it('a state file configured for one organisation that belongs to another is a configuration error naming both', async () => {
    const located = locateState(FILE, 35803, false, places({ '/s/state.json': A() }), discovery(35803));
    await expect(located).rejects.toBeInstanceOf(ConfigError);
    await expect(located).rejects.toThrow(
      /state file \/s\/state.json belongs to organisation 35802, but organisation 35803 is configured/,
    );
    const unrecordedFile = locateState(
      FILE,
      35803,
      false,
      places({ '/s/state.json': unrecorded([1, 2]) }),
      discovery(35803),
    );
    await expect(unrecordedFile).rejects.toThrow(
      /belongs to another organisation \(recorded by an earlier version without its organisation; none of its orders PO1, PO2 is in organisation 35803\), but organisation 35803 is configured/,
    );
  });
});

const order = (id: number, organisationId: number | null | undefined) => ({ id, organisationId });
const hint = (id: number | undefined) => ({
  id,
  where: 'state file s.json',
});

describe('the organisation check on every order', () => {
  it('records the configured organisation in the state', () => {
    const checkpoint = emptyCheckpoint();
    new OrganisationGuard(hint(35802), checkpoint).own([
      order(1, 35802),
      order(2, null),
      order(3, undefined),
    ]);
    expect(checkpoint.organisationId).toBe(35802);
  });

  it('polling unnamed, the first order’s organisation is the state’s from then on', () => {
    const checkpoint = emptyCheckpoint();
    const guard = new OrganisationGuard(hint(undefined), checkpoint);
    guard.own([order(1, null), order(2, 35803)]);
    expect(checkpoint.organisationId).toBe(35803);
    expect(() => guard.own([order(3, 35802)])).toThrow(OrganisationMismatchError);
  });

  it('unnamed: a state recorded for one organisation never sees another’s orders: a configuration error naming both', () => {
    const guard = new OrganisationGuard(hint(undefined), { ...emptyCheckpoint(), organisationId: 35802 });
    let error: unknown;
    try {
      guard.own([order(7, 35802), order(8, 35803)]);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(OrganisationMismatchError);
    expect(error).toMatchObject({ kind: 'state', expected: 35802, actual: 35803 });
    expect((error as Error).message).toMatch(
      /belongs to organisation 35802, but the credentials now answer for organisation 35803/,
    );
    expect((error as Error).message).toMatch(/UPHANCE_ORGANISATION_ID=35802/);
  });

  it('named: an order of another organisation fails the run, naming both', () => {
    const guard = new OrganisationGuard(hint(35802), emptyCheckpoint());
    expect(() => guard.own([order(9, 35803)])).toThrow(
      /order 9 came back for organisation 35803 while organisation 35802 was being polled/,
    );
  });

  it('a state recorded for another organisation than the one configured is refused before any request', () => {
    expect(() => new OrganisationGuard(hint(35803), { ...emptyCheckpoint(), organisationId: 35802 })).toThrow(
      /state file s.json belongs to organisation 35802, but organisation 35803 is configured/,
    );
  });
});
