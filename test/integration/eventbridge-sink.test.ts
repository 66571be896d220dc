import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { EventBridgeSink, PublishError } from '../../functions/adapters/eventbridge-sink.js';
import { detectChanges } from '../../functions/core/diff.js';
import type { NotifierEvent } from '../../functions/core/events/catalogue.js';
import { snapshotOf } from '../../functions/core/snapshot.js';
import type { LocalEventBridge } from '../../local-aws/eventbridge-local.js';
import { startLocalEventBridge } from '../../local-aws/eventbridge-local.js';
import { eventBridgeClient } from '../helpers/aws.js';
import { vendorOrder } from '../helpers/orders.js';

let bus: LocalEventBridge;
beforeAll(async () => {
  bus = await startLocalEventBridge();
});
afterAll(async () => {
  await bus.close();
});
beforeEach(() => {
  bus.reset();
});

const events = (count: number): NotifierEvent[] => {
  const order = vendorOrder('1307');
  const out: NotifierEvent[] = [];
  let snap = snapshotOf(order, 0);
  for (let i = 0; out.length < count; i++) {
    const next = structuredClone(order);
    next.dueDate = `2026-01-${String((i % 28) + 1).padStart(2, '0')}`;
    const result = detectChanges(snap, next, { detectedAt: '2026-11-27T10:00:00.000Z' });
    out.push(...result.events);
    snap = result.snapshot;
  }
  return out;
};

const sink = (options: { maxAttempts?: number } = {}) => {
  const sleeps: number[] = [];
  const s = new EventBridgeSink({
    client: eventBridgeClient(bus.url),
    eventBusName: 'orders',
    source: 'uphance.production-orders',
    sleep: async (ms) => {
      sleeps.push(ms);
    },
    random: () => 1,
    ...options,
  });
  return { s, sleeps };
};

describe('EventBridge sink against a local PutEvents endpoint', () => {
  it('puts at most 10 entries a call, with source, detail-type, bus and detail', async () => {
    const { s } = sink();
    const batch = events(25);
    await s.publish(batch);
    expect(bus.calls).toBe(3);
    expect(bus.events).toHaveLength(25);
    expect(bus.events[0]).toMatchObject({
      busName: 'orders',
      source: 'uphance.production-orders',
      detailType: 'OrderDueDateChanged',
      detail: batch[0]!.detail,
    });
  });

  it('resends only the entries that failed, with backoff', async () => {
    const { s, sleeps } = sink();
    bus.faults.push({ kind: 'fail-entries', indexes: [1, 4] });
    const batch = events(6);
    await s.publish(batch);
    expect(bus.calls).toBe(2);
    expect(s.stats).toMatchObject({ entries: 8, failedEntries: 2, retries: 1 });
    expect(bus.events.map((e) => e.detail.eventId)).toEqual(
      [0, 2, 3, 5, 1, 4].map((i) => batch[i]!.detail.eventId),
    );
    expect(sleeps).toEqual([100]);
  });

  it('rides out throttling and server errors of whole calls', async () => {
    const { s, sleeps } = sink();
    bus.faults.push({ kind: 'throttle' }, { kind: 'server-error' });
    await s.publish(events(3));
    expect(bus.events).toHaveLength(3);
    expect(sleeps).toEqual([100, 200]);
  });

  it('fails with a clear error when entries keep failing, so that the cycle does not commit', async () => {
    const { s } = sink({ maxAttempts: 3 });
    for (let i = 0; i < 3; i++)
      bus.faults.push({ kind: 'fail-entries', indexes: [0], errorCode: 'InternalFailure' });
    const error = await s.publish(events(2)).catch((e) => e);
    expect(error).toBeInstanceOf(PublishError);
    expect(error.message).toBe(
      'PutEvents to orders did not accept 1 event(s) after 3 attempts: 1 entries failed (InternalFailure: injected failure)',
    );
    expect(bus.events).toHaveLength(1);
  });

  it('returns an event above the 256 KB entry limit as refused for good, without calling, and delivers the rest', async () => {
    const { s } = sink();
    const [big, small] = events(2);
    (big!.detail.order as { companyName: string }).companyName = 'x'.repeat(262_145);
    const { rejected } = await s.publish([big!]);
    expect(rejected.map((r) => [r.event.detail.eventId, r.reason])).toEqual([
      [
        big!.detail.eventId,
        expect.stringMatching(/^262\d{3} bytes, above EventBridge's 256 KB entry limit$/),
      ],
    ]);
    expect(bus.calls).toBe(0);
    expect((await s.publish([big!, small!])).rejected).toHaveLength(1);
    expect(bus.events.map((e) => e.detail.eventId)).toEqual([small!.detail.eventId]);
  });

  it('sets aside an entry the bus refuses with a permanent error code, and resends only the transient ones', async () => {
    const { s } = sink();
    bus.faults.push({ kind: 'fail-entries', indexes: [0], errorCode: 'MalformedDetail' });
    bus.faults.push({ kind: 'fail-entries', indexes: [1], errorCode: 'ThrottlingException' });
    const batch = events(3);
    const { rejected } = await s.publish(batch);
    expect(rejected.map((r) => r.reason)).toEqual(['MalformedDetail: injected failure']);
    expect(bus.events.map((e) => e.detail.eventId).sort()).toEqual(
      [batch[1]!.detail.eventId, batch[2]!.detail.eventId].sort(),
    );
  });

  it('stops retrying when the deadline would pass, saying so', async () => {
    const { s } = sink({ maxAttempts: 6 });
    bus.faults.push({ kind: 'fail-entries', indexes: [0], errorCode: 'InternalFailure' });
    const error = await s.publish(events(1), { remainingMs: () => 50 }).catch((e) => e);
    expect(error.name).toBe('DeadlineExceededError');
    expect(error.message).toMatch(/deadline came before PutEvents to orders accepted 1 event/);
  });
});
