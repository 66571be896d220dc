import { expect, inject, it } from 'vitest';
import { formatSummary, runSoak } from '../../soak/soak.js';

/**
 * A short soak in `npm test`: 100 seeded cycles of random changes and faults. No time bound and no
 * wall-clock assertion (a slow machine runs it slower, never differently); it asserts the guarantees and
 * that the faults it relies on did happen.
 */
it('a short soak: 100 cycles of random changes and faults lose nothing and break no guarantee', async () => {
  const summary = await runSoak({
    cycles: 100,
    seed: 424242,
    orders: 200,
    // A short run has few multi-part commits: die between their parts more often, so that it happens.
    partKillRate: 0.25,
    dynamodbEndpoint: inject('dynamodbEndpoint'),
  });
  process.stderr.write(`${formatSummary(summary)}\n`);
  expect(summary.stoppedEarly).toBe(false);
  expect(summary.cycles).toBe(100);
  expect(summary.violations).toEqual([]);
  expect(summary.lost).toBe(0);
  // The run did meet trouble and changes: each fault kind it relies on happened.
  const { faults } = summary;
  expect(summary.kills).toBeGreaterThan(0);
  expect(faults.uphance429).toBeGreaterThan(0);
  expect(faults.uphance5xx).toBeGreaterThan(0);
  expect(faults.putEventsFailedEntries).toBeGreaterThan(0);
  expect(faults.dynamodbThrottled).toBeGreaterThan(0);
  expect(faults.multiPartCommits).toBeGreaterThan(0);
  expect(faults.killsBetweenJournalParts).toBeGreaterThan(0);
  expect(faults.frozenRunners).toBeGreaterThan(0);
  expect((faults.frozenRunnersFenced ?? 0) + (faults.frozenRunnersEndedByDeadline ?? 0)).toBe(
    faults.frozenRunners,
  );
  expect(faults.slowApiCyclesCut).toBeGreaterThan(0);
  expect(faults.poisonOrders).toBeGreaterThan(0);
  expect(faults.putEventsRefusedForGood).toBeGreaterThan(0);
  expect(summary.resent).toBe(summary.setAside);
  expect(summary.changes).toBeGreaterThan(100);
  expect(summary.distinct).toBeGreaterThan(50);
}, 1_800_000);
