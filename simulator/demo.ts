import { vendorExampleOrders } from './fixtures.js';
import { generateOrders } from './generator.js';
import type { SimOrder } from './model.js';
import { toFilterWord } from './model.js';
import { seededRandom } from './random.js';

const DAY = 86_400_000;

/**
 * The factory `npm start` plays: the vendor's examples and 150 generated orders, of which the ones still in
 * production are due within the next 1 to 12 days. With the demo's faster clock (a day every 15 s) the
 * due-date signals then show within the first minutes: due soon as due dates come within 7 days, overdue as
 * they pass; stages in progress since the last few days stall (more than 7 days) soon after.
 */
export const demoOrders = (now: number): SimOrder[] => {
  const random = seededRandom(11);
  const generated = generateOrders({ count: 150, seed: 42, now, watchedShare: 0.3 });
  for (const order of generated) {
    if (!['draft', 'confirmed'].includes(toFilterWord(order.raw.status))) continue;
    const days = 1 + Math.floor(random() * 12);
    order.raw.due_date = new Date(now + days * DAY).toISOString().slice(0, 10);
  }
  return [...vendorExampleOrders(), ...generated];
};
