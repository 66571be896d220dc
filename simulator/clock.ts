/**
 * A clock that runs `speed` times faster than the wall clock from the moment it is made, so that the
 * production signals (due dates, stalled stages: whole calendar days) show within a minute of `npm start`.
 */
export const fasterClock = (speed: number, wall: () => number = Date.now): (() => number) => {
  const start = wall();
  return () => start + Math.floor((wall() - start) * speed);
};

/** One simulated day every 15 wall seconds. */
export const DEMO_SPEED = 86_400 / 15;
