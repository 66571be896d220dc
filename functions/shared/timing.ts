/**
 * The one sleep, the one backoff and the cycle's deadline, shared by the Uphance client, the stores, the
 * sinks and the command line.
 */

/** The cycle's deadline passed (or would pass) before a call could finish. */
export class DeadlineExceededError extends Error {
  override readonly name = 'DeadlineExceededError';
}

/**
 * What bounds a call: the cycle's deadline. `signal` aborts in-flight I/O when it passes; `remainingMs`
 * lets a caller refuse to start a wait (a retry, a Retry-After) that would outlast it.
 */
export interface CallBounds {
  signal?: AbortSignal;
  remainingMs?: () => number;
}

/**
 * Waits `ms`, or less if `signal` aborts first. One listener on the signal, removed when the wait ends,
 * so that a long-lived signal never collects listeners. Resolves true when the full time passed.
 */
export const sleep = (ms: number, signal?: AbortSignal): Promise<boolean> =>
  new Promise((resolve) => {
    if (signal?.aborted) return resolve(false);
    const onAbort = () => {
      clearTimeout(timer);
      resolve(false);
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve(true);
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });

export interface Backoff {
  baseDelayMs: number;
  maxDelayMs: number;
}

/** Capped exponential backoff with full jitter: a uniform delay in [0, min(cap, base × 2^(attempt−1))]. */
export const backoffDelay = (
  policy: Backoff,
  attempt: number,
  random: () => number = Math.random,
): number => {
  const ceiling = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** Math.max(0, attempt - 1));
  return Math.round(random() * ceiling);
};

/**
 * A point in time (on the cycle's clock) after which no I/O may go on. `signal` aborts in-flight calls
 * when it passes (a real timer, cleared by dispose); `remainingMs` lets callers refuse waits that would
 * outlast it, which also holds under a fake clock.
 */
export class Deadline {
  readonly #controller = new AbortController();
  readonly #timer: ReturnType<typeof setTimeout> | undefined;

  constructor(
    readonly at: number,
    private readonly now: () => number,
  ) {
    const ms = at - now();
    if (ms <= 0) this.#controller.abort();
    // Beyond a timer's range (about 24 days) no cycle runs: the remaining time still bounds every wait.
    else if (ms < 2 ** 31 - 1) {
      this.#timer = setTimeout(() => this.#controller.abort(), ms);
      this.#timer.unref?.();
    }
  }

  get signal(): AbortSignal {
    return this.#controller.signal;
  }

  readonly remainingMs = (): number =>
    this.#controller.signal.aborted ? 0 : Math.max(0, this.at - this.now());

  passed(): boolean {
    return this.remainingMs() <= 0;
  }

  dispose(): void {
    if (this.#timer) clearTimeout(this.#timer);
  }
}

/**
 * Runs `work` with a signal that aborts when `timeoutMs` passes or `outer` aborts, whichever comes first.
 * One listener on `outer`, removed afterwards (AbortSignal.any would leave the outer signal's listeners
 * to the garbage collector).
 */
export const withTimeout = async <T>(
  timeoutMs: number,
  outer: AbortSignal | undefined,
  work: (signal: AbortSignal) => Promise<T>,
): Promise<T> => {
  const controller = new AbortController();
  const timer = setTimeout(
    () => controller.abort(new DOMException('the request timed out', 'TimeoutError')),
    timeoutMs,
  );
  const onAbort = () => controller.abort(outer?.reason);
  if (outer?.aborted) onAbort();
  else outer?.addEventListener('abort', onAbort, { once: true });
  try {
    return await work(controller.signal);
  } finally {
    clearTimeout(timer);
    outer?.removeEventListener('abort', onAbort);
  }
};
