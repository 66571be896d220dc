import { cpus } from 'node:os';
import { performance } from 'node:perf_hooks';
import { detectChanges, firstSight } from '../functions/core/diff.js';
import type { Order } from '../functions/core/order.js';
import { DEFAULT_SIGNAL_SETTINGS } from '../functions/core/signals.js';
import { sameSnapshot } from '../functions/core/snapshot.js';
import { apiProductionOrderSchema, toOrder } from '../functions/uphance/api-schema.js';
import { generateOrders } from '../simulator/generator.js';
import { renderOrder } from '../simulator/render.js';

/**
 * Diff throughput (issue 3): 10,000 orders of 5 line items and 4 stages, diffed against their snapshots,
 * unchanged and with 1% changed. Prints figures; asserts nothing (the target is read by a person).
 */
const COUNT = Number(process.env.BENCH_ORDERS ?? 10_000);
const ROUNDS = 5;
const orders: Order[] = generateOrders({
  count: COUNT,
  seed: 1,
  lineItems: 5,
  stages: 4,
  watchedShare: 0.5,
}).map((o) => toOrder(apiProductionOrderSchema.parse(renderOrder(o, true))));
// With the production signals on, as the poller runs them: snapshots carry their memory.
// BENCH_SIGNALS=off measures the diff without them, for comparison.
const signalsOn = process.env.BENCH_SIGNALS !== 'off';
const at = {
  detectedAt: '2026-11-27T10:00:00.000Z',
  signals: signalsOn ? DEFAULT_SIGNAL_SETTINGS : undefined,
};
const snapshots = orders.map((o) => ({ ...firstSight(o, { ...at, emit: false }).snapshot, seq: 3 }));

const changed = orders.map((o, i) => {
  if (i % 100 !== 0) return o;
  const next = structuredClone(o);
  next.status = next.status === 'complete' ? 'cancelled' : 'complete';
  const stage = next.lineItems[0]?.stages.find((s) => s.status !== 'completed');
  if (stage) stage.status = 'completed';
  return next;
});

const run = (input: Order[]) => {
  let events = 0;
  let writes = 0;
  const start = performance.now();
  for (let i = 0; i < input.length; i++) {
    const result = detectChanges(snapshots[i]!, input[i]!, at);
    events += result.events.length;
    if (!sameSnapshot(snapshots[i]!, result.snapshot)) writes++;
  }
  return { ms: performance.now() - start, events, writes };
};

const best = (input: Order[]) => {
  run(input); // warm-up
  const results = Array.from({ length: ROUNDS }, () => run(input));
  return results.sort((a, b) => a.ms - b.ms)[0]!;
};

const unchanged = best(orders);
const onePercent = best(changed);
const rate = (r: { ms: number }) => Math.round((COUNT / r.ms) * 1000);
process.stdout.write(
  [
    `diff benchmark: ${COUNT} orders × 5 line items × 4 stages, signals ${signalsOn ? 'on' : 'off'}, best of ${ROUNDS} (node ${process.version}, ${cpus()[0]?.model ?? 'cpu'})`,
    `  unchanged:   ${unchanged.ms.toFixed(1)} ms  ${rate(unchanged).toLocaleString('en')} orders/s  events ${unchanged.events}  writes ${unchanged.writes}`,
    `  1% changed:  ${onePercent.ms.toFixed(1)} ms  ${rate(onePercent).toLocaleString('en')} orders/s  events ${onePercent.events}  writes ${onePercent.writes}`,
    `  target: ≥ 50,000 orders/s unchanged: ${rate(unchanged) >= 50_000 ? 'met' : 'MISSED'}`,
    '',
  ].join('\n'),
);
