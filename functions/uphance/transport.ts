import type { CallBounds } from '../shared/timing.js';
import { DeadlineExceededError, sleep, withTimeout } from '../shared/timing.js';
import { UphanceApiError } from './errors.js';
import type { RetryPolicy } from './retry-policy.js';
import { backoffDelay, isRetryableStatus, parseRetryAfter } from './retry-policy.js';

/** What the client reports for metrics and logs. Never carries a token or a password. */
export type TransportEvent =
  | { type: 'response'; endpoint: string; status: number; attempt: number; durationMs: number }
  | { type: 'failure'; endpoint: string; reason: string; attempt: number; durationMs: number }
  | { type: 'retry'; endpoint: string; attempt: number; delayMs: number; reason: string }
  /** A page came back for another organisation than the one selected: refused, and asked for again. */
  | { type: 'foreign-organisation'; endpoint: string; expected: number; actual: number };

export interface Clock {
  now(): number;
  sleep(ms: number, signal?: AbortSignal): Promise<unknown>;
}

export const systemClock: Clock = { now: () => Date.now(), sleep };

export interface TransportOptions {
  baseUrl: string;
  timeoutMs: number;
  retry: RetryPolicy;
  clock: Clock;
  random: () => number;
  fetch: typeof fetch;
  onEvent?: (event: TransportEvent) => void;
  userAgent: string;
}

export interface SendRequest {
  method: 'GET' | 'POST';
  path: string;
  search?: URLSearchParams;
  body?: { json: unknown } | { form: Record<string, string> };
  /** Supplies the Authorization header; called before each attempt so a refreshed token is used. */
  authorization?: () => Promise<string | undefined>;
}

export interface SendResult {
  status: number;
  body: unknown;
  attempts: number;
}

/** The endpoint as it appears in errors and logs: method and path, with the query but no secrets. */
export const describeEndpoint = (request: SendRequest): string => {
  const query = request.search?.toString();
  return `${request.method} ${request.path}${query ? `?${decodeURIComponent(query)}` : ''}`;
};

const describeError = (error: unknown): string => {
  if (error instanceof Error) {
    if (error.name === 'TimeoutError' || error.name === 'AbortError') return 'timed out';
    const cause = (error as { cause?: { code?: string; message?: string } }).cause;
    if (cause?.code) return `network error (${cause.code})`;
    return `network error (${error.message})`;
  }
  return 'network error';
};

/**
 * One HTTP exchange with retries: 429 waits for Retry-After (seconds or HTTP date) or backs off;
 * 5xx, timeouts and network errors back off exponentially with jitter; other statuses are returned for
 * the caller to judge. Bounded by `retry.maxAttempts`; the final error names the endpoint, the last status
 * and the attempts made. Bounded by the cycle's deadline too: no attempt starts, and no wait begins, that
 * would end after it, and an attempt in flight is aborted when it passes (DeadlineExceededError).
 */
export const send = async (
  options: TransportOptions,
  request: SendRequest,
  bounds: CallBounds = {},
): Promise<SendResult> => {
  const endpoint = describeEndpoint(request);
  const remaining = () => bounds.remainingMs?.() ?? Number.POSITIVE_INFINITY;
  const outOfTime = (what: string) =>
    new DeadlineExceededError(`the cycle's deadline came before Uphance ${endpoint} ${what}`);
  const url = new URL(request.path, options.baseUrl);
  if (request.search) url.search = request.search.toString();
  let lastReason = '';
  let lastStatus: number | undefined;
  for (let attempt = 1; attempt <= options.retry.maxAttempts; attempt++) {
    if (remaining() <= 0 || bounds.signal?.aborted) throw outOfTime('could be requested');
    const started = options.clock.now();
    let retryAfterMs: number | undefined;
    // Outside the try: a rejected credential is not a network error to retry.
    const authorization = await request.authorization?.();
    try {
      const headers: Record<string, string> = { accept: 'application/json', 'user-agent': options.userAgent };
      if (authorization) headers.authorization = authorization;
      let body: string | undefined;
      if (request.body && 'json' in request.body) {
        headers['content-type'] = 'application/json';
        body = JSON.stringify(request.body.json);
      } else if (request.body && 'form' in request.body) {
        headers['content-type'] = 'application/x-www-form-urlencoded';
        body = new URLSearchParams(request.body.form).toString();
      }
      const { response, text } = await withTimeout(
        Math.min(options.timeoutMs, remaining()),
        bounds.signal,
        async (signal) => {
          const response = await options.fetch(url, { method: request.method, headers, body, signal });
          return { response, text: await response.text() };
        },
      );
      const durationMs = options.clock.now() - started;
      options.onEvent?.({ type: 'response', endpoint, status: response.status, attempt, durationMs });
      lastStatus = response.status;
      if (!isRetryableStatus(response.status)) {
        if (!response.ok) return { status: response.status, body: safeJson(text), attempts: attempt };
        try {
          return { status: response.status, body: text === '' ? null : JSON.parse(text), attempts: attempt };
        } catch {
          lastReason = `status ${response.status} with a body that is not JSON`;
        }
      } else {
        lastReason = `status ${response.status}`;
        if (response.status === 429) {
          retryAfterMs = parseRetryAfter(response.headers.get('retry-after'), options.clock.now());
          if (retryAfterMs !== undefined && retryAfterMs > options.retry.maxRetryAfterMs) {
            throw new UphanceApiError(
              `Uphance ${endpoint} is rate limited and asked to wait ${Math.ceil(retryAfterMs / 1000)} s, longer than the ${Math.ceil(options.retry.maxRetryAfterMs / 1000)} s allowed (after ${attempt} attempt(s))`,
              endpoint,
              429,
              attempt,
            );
          }
        }
      }
    } catch (error) {
      if (error instanceof UphanceApiError) throw error;
      if (bounds.signal?.aborted || remaining() <= 0) throw outOfTime('answered');
      lastStatus = undefined;
      lastReason = describeError(error);
      options.onEvent?.({
        type: 'failure',
        endpoint,
        reason: lastReason,
        attempt,
        durationMs: options.clock.now() - started,
      });
    }
    if (attempt < options.retry.maxAttempts) {
      const delayMs = retryAfterMs ?? backoffDelay(options.retry, attempt, options.random);
      if (delayMs >= remaining()) throw outOfTime(`could be retried (${lastReason}; wait ${delayMs} ms)`);
      options.onEvent?.({ type: 'retry', endpoint, attempt, delayMs, reason: lastReason });
      await options.clock.sleep(delayMs, bounds.signal);
      if (bounds.signal?.aborted) throw outOfTime('could be retried');
    }
  }
  throw new UphanceApiError(
    `Uphance ${endpoint} failed after ${options.retry.maxAttempts} attempts: ${lastReason}`,
    endpoint,
    lastStatus,
    options.retry.maxAttempts,
  );
};

const safeJson = (text: string): unknown => {
  try {
    return JSON.parse(text);
  } catch {
    return text.slice(0, 200);
  }
};
