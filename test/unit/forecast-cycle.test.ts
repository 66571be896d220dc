import { describe, expect, it } from 'vitest';
import { FileStateStore } from '../../functions/adapters/file/state-store.js';
import { DEFAULT_SIGNAL_SETTINGS } from '../../functions/core/signals.js';
import { startSimulator } from '../../simulator/server.js';
import { FAST, finished, forecastScenarios, inSewing, SLOW } from '../helpers/forecast-world.js';
import { notifierFor, tempStatePath } from '../helpers/harness.js';

describe('the forecast through the real cycle (file store)', () => {
  forecastScenarios(() => new FileStateStore(tempStatePath()));

  it('the baseline judges no forecast on the history it has learnt so far: no burst after it', async () => {
    // Pages come newest first, two orders a page: the slow supplier's order is seen after the fast supplier's
    // history only (the account's Sewing takes 3 days: on time), before its own supplier's 12 days.
    const slow = inSewing(90_000, SLOW);
    slow.raw.due_date = '2026-12-02';
    const sim = await startSimulator({
      perPage: 2,
      orders: [
        slow,
        ...Array.from({ length: 5 }, (_, i) => finished(91_000 + i, FAST, 3, 3 + i)),
        ...Array.from({ length: 8 }, (_, i) => finished(81_000 + i, SLOW, 12, 3 + i)),
      ],
    });
    try {
      const n = notifierFor(sim, { store: new FileStateStore(tempStatePath()) });
      const signals = DEFAULT_SIGNAL_SETTINGS;
      await n.run({ signals });
      await n.run({ signals });
      await n.run({ signals });
      expect(n.memory.published.filter((e) => e.detailType === 'OrderAtRisk')).toEqual([]);
      // It is at risk all the same, and says so once its due date moves.
      expect((await n.snapshots()).get(90_000)).toMatchObject({ atRisk: '2026-12-02' });
      sim.state.setDueDate(90_000, '2026-12-03');
      await n.run({ signals });
      expect(n.memory.published.filter((e) => e.detailType === 'OrderAtRisk')).toHaveLength(1);
    } finally {
      await sim.close();
    }
  });
});
