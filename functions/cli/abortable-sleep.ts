/**
 * Waits `ms`, or less if `signal` aborts. Each wait adds one abort listener and removes it when it ends,
 * so that a long-running poller does not pile listeners onto its one shutdown signal (Node warns at 11).
 */
export const abortableSleep = (ms: number, signal?: AbortSignal): Promise<void> =>
  new Promise<void>((resolve) => {
    if (signal?.aborted) return resolve();
    const done = () => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal?.addEventListener('abort', done, { once: true });
  });
