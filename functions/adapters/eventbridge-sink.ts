import type { EventBridgeClient, PutEventsRequestEntry } from '@aws-sdk/client-eventbridge';
import { PutEventsCommand } from '@aws-sdk/client-eventbridge';
import type { NotifierEvent } from '../core/events/catalogue.js';
import { DeadlineExceededError } from '../cycle/errors.js';
import type { EventSink, PublishOptions, PublishResult } from '../cycle/ports.js';
import { backoffDelay, sleep } from '../shared/timing.js';

/** EventBridge's limits: 10 entries and 256 KB per PutEvents call. */
const MAX_ENTRIES_PER_CALL = 10;
const MAX_REQUEST_BYTES = 256 * 1024;

export class PublishError extends Error {
  override readonly name = 'PublishError';
}

export interface EventBridgeSinkOptions {
  client: EventBridgeClient;
  eventBusName: string;
  source: string;
  /** Attempts per entry before the batch fails. */
  maxAttempts?: number;
  baseDelayMs?: number;
  sleep?: (ms: number, signal?: AbortSignal) => Promise<unknown>;
  random?: () => number;
}

export interface EventBridgeStats {
  calls: number;
  entries: number;
  failedEntries: number;
  retries: number;
  /** Entries refused for good (set aside). */
  rejected: number;
}

/** Entry size as EventBridge counts it: UTF-8 bytes of source, detail-type, detail, resources, plus 14 for Time. */
const entrySize = (entry: PutEventsRequestEntry): number =>
  Buffer.byteLength(entry.Source ?? '') +
  Buffer.byteLength(entry.DetailType ?? '') +
  Buffer.byteLength(entry.Detail ?? '') +
  (entry.Resources ?? []).reduce((n, r) => n + Buffer.byteLength(r), 0) +
  (entry.Time ? 14 : 0);

/** Per-entry error codes worth another attempt; any other code is a refusal for good (set aside). */
const TRANSIENT_ENTRY_ERRORS = /throttl|internal|unavailable|timeout|limitexceeded/i;

/**
 * Puts events on a bus, in calls of at most 10 entries and 256 KB. Every entry's result is checked; only
 * the failed entries are resent, with capped exponential backoff and jitter, each wait bounded by the
 * cycle's deadline. An entry refused for good (too large, or an error code that no retry changes) is
 * returned as rejected, to be set aside, instead of blocking the others. If some entries still fail after
 * `maxAttempts`, publish() rejects and the cycle's journal re-publishes them next time, same eventIds.
 */
export class EventBridgeSink implements EventSink {
  readonly stats: EventBridgeStats = { calls: 0, entries: 0, failedEntries: 0, retries: 0, rejected: 0 };
  readonly #sleep: (ms: number, signal?: AbortSignal) => Promise<unknown>;
  readonly #random: () => number;

  constructor(private readonly options: EventBridgeSinkOptions) {
    this.#sleep = options.sleep ?? sleep;
    this.#random = options.random ?? Math.random;
  }

  async publish(events: NotifierEvent[], options: PublishOptions = {}): Promise<PublishResult> {
    const rejected: PublishResult['rejected'] = [];
    const pending: Array<{ event: NotifierEvent; entry: PutEventsRequestEntry }> = [];
    for (const event of events) {
      const entry: PutEventsRequestEntry = {
        EventBusName: this.options.eventBusName,
        Source: this.options.source,
        DetailType: event.detailType,
        Detail: JSON.stringify(event.detail),
        Time: new Date(event.detail.detectedAt),
      };
      const size = entrySize(entry);
      if (size > MAX_REQUEST_BYTES) {
        rejected.push({ event, reason: `${size} bytes, above EventBridge's 256 KB entry limit` });
      } else pending.push({ event, entry });
    }
    let call: typeof pending = [];
    let bytes = 0;
    for (const item of pending) {
      const size = entrySize(item.entry);
      if (call.length === MAX_ENTRIES_PER_CALL || bytes + size > MAX_REQUEST_BYTES) {
        rejected.push(...(await this.#putWithRetries(call, options)));
        call = [];
        bytes = 0;
      }
      call.push(item);
      bytes += size;
    }
    if (call.length > 0) rejected.push(...(await this.#putWithRetries(call, options)));
    this.stats.rejected += rejected.length;
    return { rejected };
  }

  async #putWithRetries(
    entries: Array<{ event: NotifierEvent; entry: PutEventsRequestEntry }>,
    options: PublishOptions,
  ): Promise<PublishResult['rejected']> {
    const maxAttempts = this.options.maxAttempts ?? 6;
    const policy = { baseDelayMs: this.options.baseDelayMs ?? 100, maxDelayMs: 5_000 };
    const rejected: PublishResult['rejected'] = [];
    let pending = entries;
    let lastError = '';
    const outOfTime = () =>
      options.signal?.aborted || (options.remainingMs !== undefined && options.remainingMs() <= 0);
    let deadline = false;
    for (let attempt = 1; attempt <= maxAttempts; attempt++) {
      if (attempt > 1) {
        const delay = backoffDelay(policy, attempt - 1, this.#random);
        if (options.remainingMs && delay >= options.remainingMs()) {
          deadline = true;
          break;
        }
        this.stats.retries++;
        await this.#sleep(delay, options.signal);
      }
      if (outOfTime()) {
        deadline = true;
        break;
      }
      this.stats.calls++;
      this.stats.entries += pending.length;
      let results: Array<{ ErrorCode?: string; ErrorMessage?: string }>;
      try {
        const out = await this.options.client.send(
          new PutEventsCommand({ Entries: pending.map((p) => p.entry) }),
          {
            abortSignal: options.signal,
          },
        );
        results = out.Entries ?? [];
        if (results.length !== pending.length) {
          throw new PublishError(
            `PutEvents answered ${results.length} results for ${pending.length} entries`,
          );
        }
      } catch (error) {
        // Throttling and 5xx arrive as errors for the whole call (the SDK already retried them).
        lastError = `${(error as Error).name}: ${(error as Error).message}`;
        continue;
      }
      const failed: typeof pending = [];
      pending.forEach((item, i) => {
        const result = results[i];
        if (!result?.ErrorCode) return;
        this.stats.failedEntries++;
        if (TRANSIENT_ENTRY_ERRORS.test(result.ErrorCode)) failed.push(item);
        else
          rejected.push({
            event: item.event,
            reason: `${result.ErrorCode}: ${result.ErrorMessage ?? ''}`.trim(),
          });
      });
      if (failed.length === 0) return rejected;
      const first = results.find((r) => r.ErrorCode && TRANSIENT_ENTRY_ERRORS.test(r.ErrorCode));
      lastError = `${failed.length} entries failed (${first?.ErrorCode}: ${first?.ErrorMessage ?? ''})`;
      pending = failed;
    }
    if (deadline || outOfTime()) {
      throw new DeadlineExceededError(
        `the cycle's deadline came before PutEvents to ${this.options.eventBusName} accepted ${pending.length} event(s)`,
      );
    }
    throw new PublishError(
      `PutEvents to ${this.options.eventBusName} did not accept ${pending.length} event(s) after ${maxAttempts} attempts: ${lastError}`,
    );
  }
}
