import { getEventListeners } from 'node:events';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { sleep as abortableSleep } from '../../functions/shared/timing.js';

describe('the one sleep (the command line’s pause between cycles, retries)', () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  it('leaves no abort listener behind, however many cycles it waits between', async () => {
    const abort = new AbortController();
    for (let cycle = 0; cycle < 20; cycle++) {
      const waited = abortableSleep(3_000, abort.signal);
      expect(getEventListeners(abort.signal, 'abort')).toHaveLength(1);
      await vi.advanceTimersByTimeAsync(3_000);
      await waited;
      expect(getEventListeners(abort.signal, 'abort')).toHaveLength(0);
    }
  });

  it('ends at once when the signal aborts, and its timer goes with it', async () => {
    const abort = new AbortController();
    let ended = false;
    const waited = abortableSleep(60_000, abort.signal).then(() => {
      ended = true;
    });
    await vi.advanceTimersByTimeAsync(1_000);
    expect(ended).toBe(false);
    abort.abort();
    await waited;
    expect(ended).toBe(true);
    expect(vi.getTimerCount()).toBe(0);
    expect(getEventListeners(abort.signal, 'abort')).toHaveLength(0);
    // Already aborted: no wait at all.
    await abortableSleep(60_000, abort.signal);
    expect(vi.getTimerCount()).toBe(0);
  });
});
