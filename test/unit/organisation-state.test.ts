import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../functions/config.js';
import { emptyCheckpoint } from '../../functions/cycle/cycle.js';
import { OrganisationGuard } from '../../functions/cycle/organisation-guard.js';
import type { Checkpoint } from '../../functions/cycle/ports.js';
import { OrganisationMismatchError } from '../../functions/cycle/ports.js';
import type { StateLocation } from '../../functions/state-location.js';
import { locateState } from '../../functions/state-location.js';

const FILE = { kind: 'file', path: '/s/state.json' } as const;
const TABLE = { kind: 'dynamodb', tableName: 't' } as const;

/** States that exist, by place: `/s/state.json`, `/s/state.35802.json`, `default`, `35802`. */
const states =
  (existing: Record<string, number | 'unrecorded'>) =>
  async (location: StateLocation): Promise<Checkpoint | undefined> => {
    const key = location.kind === 'file' ? location.path : location.partition;
    const owner = existing[key];
    if (owner === undefined) return undefined;
    return {
      ...emptyCheckpoint(),
      baselineAt: 'x',
      ...(owner === 'unrecorded' ? {} : { organisationId: owner }),
    };
  };

const where = async (...args: Parameters<typeof locateState>) => {
  const { location, probeUnrecorded } = await locateState(...args);
  return `${location.kind === 'file' ? location.path : location.partition}${probeUnrecorded ? ' (confirm)' : ''}`;
};

describe('finding an organisation’s state across configuration changes', () => {
  it.each([
    // [what happened, setting, organisation, several, states that exist, where its state is]
    ['unnamed, as always', FILE, undefined, false, { '/s/state.json': 35802 }, '/s/state.json'],
    [
      'naming the organisation that was polled unnamed',
      FILE,
      35802,
      false,
      { '/s/state.json': 35802 },
      '/s/state.json',
    ],
    [
      'naming it, state from before organisations were recorded',
      FILE,
      35802,
      false,
      { '/s/state.json': 'unrecorded' },
      '/s/state.json (confirm)',
    ],
    [
      'adding a second organisation: the first keeps its state',
      FILE,
      35802,
      true,
      { '/s/state.json': 35802 },
      '/s/state.json',
    ],
    [
      'adding a second organisation: the second starts its own',
      FILE,
      35803,
      true,
      { '/s/state.json': 35802 },
      '/s/state.35803.json',
    ],
    [
      'back to one organisation: it keeps the state it had among several',
      FILE,
      35803,
      false,
      { '/s/state.json': 35802, '/s/state.35803.json': 35803 },
      '/s/state.35803.json',
    ],
    ['a first run, one organisation', FILE, 35802, false, {}, '/s/state.json'],
    ['a first run, several', FILE, 35802, true, {}, '/s/state.35802.json'],
    [
      'several, an unrecorded unnamed state is no one’s to take',
      FILE,
      35803,
      true,
      { '/s/state.json': 'unrecorded' },
      '/s/state.35803.json',
    ],
    [
      'table: naming the organisation that was polled unnamed',
      TABLE,
      35802,
      false,
      { default: 35802 },
      'default',
    ],
    ['table: naming it, unrecorded', TABLE, 35802, false, { default: 'unrecorded' }, 'default (confirm)'],
    [
      'table: the organisation’s own partition first',
      TABLE,
      35802,
      false,
      { default: 35802, '35802': 35802 },
      '35802',
    ],
    [
      'table: another organisation’s unnamed state is left alone',
      TABLE,
      35803,
      false,
      { default: 35802 },
      '35803',
    ],
    ['table: a first run', TABLE, 35802, false, {}, '35802'],
    ['table: unnamed', TABLE, undefined, false, { '35802': 35802 }, 'default'],
  ] as const)('%s', async (_what, setting, organisationId, several, existing, expected) => {
    expect(await where(setting, organisationId, several, states(existing))).toBe(expected);
  });

  it('a state file configured for one organisation that belongs to another is a configuration error naming both', async () => {
    const located = locateState(FILE, 35803, false, states({ '/s/state.json': 35802 }));
    await expect(located).rejects.toBeInstanceOf(ConfigError);
    await expect(located).rejects.toThrow(
      /state file \/s\/state.json belongs to organisation 35802, but organisation 35803 is configured/,
    );
  });
});

const order = (id: number, organisationId: number | null | undefined) => ({ id, organisationId });
const hint = (id: number | undefined, probeUnrecorded = false) => ({
  id,
  probeUnrecorded,
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

  it('an unrecorded state found where the unnamed one was kept is confirmed by looking some of its orders up', async () => {
    const checkpoint = { ...emptyCheckpoint(), watched: [10, 11, 12, 13] };
    const snapshots = new Map(
      [12, 13].map((id) => [id, { rev: 1, snapshot: { order: { number: `PO${id}` } } }]),
    );
    const store = {
      getSnapshots: async () => snapshots as never,
      listSnapshotIds: async function* () {},
    };
    const looked: string[] = [];
    const source = (found: boolean) => ({
      lookup: async ({ number }: { id: number; number: string }) => {
        looked.push(number);
        return found ? ({ kind: 'found', order: {} } as never) : ({ kind: 'absent' } as const);
      },
    });
    await new OrganisationGuard(hint(35802, true), checkpoint).confirm(store, source(true), {});
    expect(looked).toEqual(['PO13']);
    looked.length = 0;
    const other = new OrganisationGuard(hint(35802, true), {
      ...emptyCheckpoint(),
      watched: [10, 11, 12, 13],
    });
    await expect(other.confirm(store, source(false), {})).rejects.toThrow(
      /none of its orders PO13, PO12 is in organisation 35802: it belongs to another organisation/,
    );
    // A recorded state needs no confirmation.
    looked.length = 0;
    await new OrganisationGuard(hint(35802, true), { ...checkpoint, organisationId: 35802 }).confirm(
      store,
      source(false),
      {},
    );
    expect(looked).toEqual([]);
  });
});
