import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { FileLease } from '../../functions/adapters/file/lease.js';
import { silentLogger } from '../../functions/cycle/ports.js';
import type { Lease, LeaseClaim } from '../../functions/cycle/records.js';
import type { TurnDependencies } from '../../functions/cycle/turns.js';
import { endTurn, takeTurn } from '../../functions/cycle/turns.js';
import { fakeClock } from '../helpers/fake-clock.js';

const dir = () => mkdtempSync(join(tmpdir(), 'uphance-notifier-turns-'));
const claim = (owner: string, nowMs: number, ttlMs = 60_000): LeaseClaim => ({ owner, nowMs, ttlMs });
const leaseOf = (outcome: Awaited<ReturnType<FileLease['acquire']>>): Lease => {
  if (outcome.kind !== 'acquired') throw new Error('expected the lease');
  return outcome.lease;
};

const setup = () => {
  const d = dir();
  const clock = fakeClock();
  const state = new FileLease(join(d, 'state.lease'));
  const credentials = new FileLease(join(d, 'credentials.lease'));
  let onSleep: (ms: number) => Promise<void> | void = () => {};
  const deps: TurnDependencies = {
    state,
    credentials: [credentials],
    now: clock.now,
    sleep: async (ms) => {
      await clock.sleep(ms);
      await onSleep(ms);
    },
    logger: silentLogger,
  };
  return { clock, state, credentials, deps, setOnSleep: (f: typeof onSleep) => (onSleep = f) };
};

describe('taking turns on shared credentials', () => {
  it('waits for credentials another organisation is using, then takes them and the state', async () => {
    const { clock, credentials, deps, setOnSleep } = setup();
    const other = leaseOf(await credentials.acquire(claim('other-organisation', clock.now())));
    setOnSleep(async () => {
      if (clock.sleeps.length === 3) await credentials.release(other);
    });
    const start = clock.now();
    const turn = await takeTurn(deps, (nowMs) => claim('me', nowMs), {
      stateUntil: start,
      credentialsUntil: start + 30_000,
    });
    expect(turn.kind).toBe('acquired');
    expect(clock.sleeps).toHaveLength(3);
    // Backing off, each wait within the limit.
    expect(clock.sleeps).toEqual([100, 200, 400]);
    if (turn.kind !== 'acquired') return;
    expect(turn.credentials.map((l) => l.owner)).toEqual(['me']);
    expect(turn.state.owner).toBe('me');
    await endTurn(deps, turn);
    expect((await credentials.read()).lease).toBeNull();
    expect((await deps.state.acquire(claim('next', clock.now()))).kind).toBe('acquired');
  });

  it('a turn that does not come within the limit leaves, naming who holds the credentials, holding nothing', async () => {
    const { clock, credentials, state, deps } = setup();
    await credentials.acquire(claim('other-organisation', clock.now(), 600_000));
    const start = clock.now();
    const turn = await takeTurn(deps, (nowMs) => claim('me', nowMs), {
      stateUntil: start,
      credentialsUntil: start + 5_000,
    });
    expect(turn).toMatchObject({
      kind: 'held',
      heldBy: 'credentials',
      holder: { owner: 'other-organisation' },
    });
    expect(clock.now() - start).toBe(5_000);
    expect(Math.max(...clock.sleeps)).toBeLessThanOrEqual(2_000);
    expect((await state.read()).lease).toBeNull();
  });

  it('never holds the credentials while it waits for its state: another organisation can use them meanwhile', async () => {
    const { clock, credentials, state, deps, setOnSleep } = setup();
    const checking = leaseOf(await state.acquire(claim('a-check-of-this-organisation', clock.now())));
    const usedMeanwhile: string[] = [];
    setOnSleep(async () => {
      const got = await credentials.acquire(claim(`other-${clock.sleeps.length}`, clock.now()));
      if (got.kind === 'acquired') {
        usedMeanwhile.push(got.lease.owner);
        await credentials.release(got.lease);
      }
      if (clock.sleeps.length === 4) await state.release(checking);
    });
    const start = clock.now();
    const turn = await takeTurn(deps, (nowMs) => claim('scheduled-cycle', nowMs), {
      stateUntil: start + 30_000,
      credentialsUntil: start + 30_000,
    });
    expect(turn.kind).toBe('acquired');
    expect(usedMeanwhile).toEqual(['other-1', 'other-2', 'other-3', 'other-4']);
  });

  it('a state lease held past the wait leaves as held by the state, the credentials given back', async () => {
    const { clock, credentials, state, deps } = setup();
    await state.acquire(claim('another-runner', clock.now(), 600_000));
    const start = clock.now();
    const turn = await takeTurn(deps, (nowMs) => claim('me', nowMs), {
      stateUntil: start,
      credentialsUntil: start + 60_000,
    });
    expect(turn).toMatchObject({ kind: 'held', heldBy: 'state', holder: { owner: 'another-runner' } });
    expect(clock.sleeps).toEqual([]);
    expect((await credentials.read()).lease).toBeNull();
  });

  it('takes over at once from a holder that no longer runs', async () => {
    const { clock, credentials, deps } = setup();
    const dead = leaseOf(await credentials.acquire({ ...claim('host:123', clock.now(), 600_000), pid: 123 }));
    const turn = await takeTurn(
      { ...deps, isAbandoned: (holder) => holder.pid === 123 },
      (nowMs) => claim('me', nowMs),
      { stateUntil: clock.now(), credentialsUntil: clock.now() },
    );
    expect(turn.kind).toBe('acquired');
    expect(clock.sleeps).toEqual([]);
    if (turn.kind === 'acquired') expect(turn.credentials[0]?.generation).toBe(dead.generation + 1);
  });

  it('never sleeps past the holder’s expiry', async () => {
    const { clock, credentials, deps } = setup();
    await credentials.acquire(claim('short-lived', clock.now(), 150));
    const start = clock.now();
    const turn = await takeTurn(deps, (nowMs) => claim('me', nowMs), {
      stateUntil: start,
      credentialsUntil: start + 30_000,
    });
    expect(turn.kind).toBe('acquired');
    expect(clock.sleeps).toEqual([100, 50]);
  });
});

describe('credentials held for this very state', () => {
  it('count as the state held: a run of the same organisation is not waited for as another’s turn', async () => {
    const { clock, credentials, deps } = setup();
    await credentials.acquire({
      ...claim('poller-of-this-state', clock.now(), 600_000),
      scope: 'file:/s.json|35802',
    });
    const start = clock.now();
    const turn = await takeTurn(deps, (nowMs) => ({ ...claim('me', nowMs), scope: 'file:/s.json|35802' }), {
      stateUntil: start,
      credentialsUntil: start + 240_000,
    });
    expect(turn).toMatchObject({ kind: 'held', heldBy: 'state', holder: { owner: 'poller-of-this-state' } });
    expect(clock.sleeps).toEqual([]);
    // Another organisation's run on those credentials is waited for.
    const other = await takeTurn(deps, (nowMs) => ({ ...claim('me', nowMs), scope: 'file:/t.json|35803' }), {
      stateUntil: clock.now(),
      credentialsUntil: clock.now() + 5_000,
    });
    expect(other).toMatchObject({ kind: 'held', heldBy: 'credentials' });
    expect(clock.sleeps.length).toBeGreaterThan(0);
  });
});
