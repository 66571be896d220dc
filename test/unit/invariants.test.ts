import { describe, expect, it } from 'vitest';
import { detectChanges } from '../../functions/core/diff.js';
import type { NotifierEvent } from '../../functions/core/events/catalogue.js';
import { snapshotOf } from '../../functions/core/snapshot.js';
import type { LedgerEntry } from '../../simulator/model.js';
import { checkEvents, checkLedgerCovered, checkSnapshots } from '../../soak/invariants.js';
import { clone, vendorOrder } from '../helpers/orders.js';

/** The checks the soak and the cycle tests rely on must themselves catch what they claim to. */
const history = (): NotifierEvent[] => {
  const a = vendorOrder('1307');
  const b = clone(a);
  b.status = 'complete';
  const first = detectChanges(snapshotOf(a, 0), b, { detectedAt: '2026-01-01T00:00:00.000Z' });
  const c = clone(b);
  c.dueDate = '2026-05-01';
  const second = detectChanges(first.snapshot, c, { detectedAt: '2026-01-01T00:05:00.000Z' });
  return [...first.events, ...second.events];
};

describe('invariant checks', () => {
  it('accept a clean history and identical re-emissions', () => {
    const events = history();
    const result = checkEvents([...events, events[0]!]);
    expect(result.violations).toEqual([]);
    expect(result.duplicates).toBe(1);
  });

  it('catch a re-emission that differs, a sequence given twice, and a gap', () => {
    const [one, two] = history();
    const altered = clone(one!);
    (altered.detail as { detectedAt: string }).detectedAt = 'later';
    expect(checkEvents([one!, altered]).violations.map((v) => v.rule)).toEqual(['duplicate-differs']);
    const reused = clone(two!);
    reused.detail.eventId = 'another';
    reused.detail.sequence = 1;
    expect(checkEvents([one!, reused]).violations.map((v) => v.rule)).toEqual(['sequence-reused']);
    expect(checkEvents([two!]).violations.map((v) => v.rule)).toEqual(['sequence-gap']);
  });

  it('catch a lost change: a stage completion or a final value no event carries', () => {
    const at = '2026-01-01T00:00:00.000Z';
    const ledger: LedgerEntry[] = [
      { orderId: 23620, kind: 'status', from: 'confirmed', to: 'complete', at },
      { orderId: 23620, kind: 'due_date', from: null, to: '2026-05-01', at },
      {
        orderId: 23620,
        kind: 'stage',
        from: 'In Progress',
        to: 'Completed',
        lineItemId: 141951,
        stage: 'Sewing',
        at,
      },
    ];
    const lost = checkLedgerCovered(ledger, 0, history());
    expect(lost.map((v) => v.message)).toEqual(['23620/141951/Sewing completed without StageCompleted']);
    const missingDue = checkLedgerCovered(ledger.slice(0, 2), 0, history().slice(0, 1));
    expect(missingDue.map((v) => v.message)).toEqual(['23620/due_date ended 2026-05-01, events say null']);
  });

  it('catch a snapshot that differs from the truth, and an order gone but not removed', () => {
    const truth = new Map([[1, snapshotOf(vendorOrder('1307'), 0)]]);
    const moved = clone(vendorOrder('1307'));
    moved.status = 'complete';
    const stored = new Map([
      [1, snapshotOf(moved, 3)],
      [2, snapshotOf(vendorOrder('1311'), 1)],
    ]);
    expect(checkSnapshots(truth, stored).map((v) => v.rule)).toEqual([
      'snapshot-differs',
      'snapshot-differs',
    ]);
  });
});
