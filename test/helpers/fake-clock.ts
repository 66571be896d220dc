import type { Clock } from '../../functions/uphance/transport.js';

/** A clock whose sleeps return at once and move time on, recording each delay. */
export const fakeClock = (start = Date.UTC(2026, 10, 27, 10)) => {
  let now = start;
  const sleeps: number[] = [];
  const clock: Clock & { sleeps: number[]; advance(ms: number): void } = {
    now: () => now,
    sleep: async (ms) => {
      sleeps.push(ms);
      now += ms;
    },
    sleeps,
    advance: (ms) => {
      now += ms;
    },
  };
  return clock;
};
