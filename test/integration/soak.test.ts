import { expect, inject, it } from 'vitest';
import { formatSummary, runSoak } from '../../soak/soak.js';

it('a short soak: 100 cycles of random changes and faults lose nothing and break no guarantee', async () => {
  const summary = await runSoak({
    cycles: 100,
    seed: 424242,
    maxSeconds: 240,
    orders: 200,
    dynamodbEndpoint: inject('dynamodbEndpoint'),
  });
  process.stderr.write(`${formatSummary(summary)}\n`);
  expect(summary.stoppedEarly).toBe(false);
  expect(summary.cycles).toBe(100);
  expect(summary.violations).toEqual([]);
  expect(summary.lost).toBe(0);
  // The run did meet trouble and changes.
  expect(summary.kills + Object.values(summary.failed).reduce((a, b) => a + b, 0)).toBeGreaterThan(0);
  expect((summary.faults.uphance429 ?? 0) + (summary.faults.uphance5xx ?? 0)).toBeGreaterThan(0);
  expect(summary.changes).toBeGreaterThan(100);
  expect(summary.distinct).toBeGreaterThan(50);
}, 300_000);
