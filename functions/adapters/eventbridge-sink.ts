import type { EventBridgeClient, PutEventsRequestEntry } from '@aws-sdk/client-eventbridge';
import { PutEventsCommand } from '@aws-sdk/client-eventbridge';
import type { NotifierEvent } from '../core/events/catalogue.js';
import type { EventSink } from '../cycle/ports.js';

/** EventBridge's limits: 10 entries and 256 KB per PutEvents call. */
export const MAX_ENTRIES_PER_CALL = 10;
export const MAX_REQUEST_BYTES = 256 * 1024;

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
  sleep?: (ms: number) => Promise<void>;
  random?: () => number;
}

export interface EventBridgeStats {
  calls: number;
  entries: number;
  failedEntries: number;
  retries: number;
}

/** Entry size as EventBridge counts it: UTF-8 bytes of source, detail-type, detail, resources, plus 14 for Time. */
export const entrySize = (entry: PutEventsRequestEntry): number =>
  Buffer.byteLength(entry.Source ?? '') +
  Buffer.byteLength(entry.DetailType ?? '') +
  Buffer.byteLength(entry.Detail ?? '') +
  (entry.Resources ?? []).reduce((n, r) => n + Buffer.byteLength(r), 0) +
  (entry.Time ? 14 : 0);

/** Splits entries into calls of at most 10 entries and 256 KB. */
export const toCalls = (entries: PutEventsRequestEntry[]): PutEventsRequestEntry[][] => {
  const calls: PutEventsRequestEntry[][] = [];
  let current: PutEventsRequestEntry[] = [];
  let bytes = 0;
  for (const entry of entries) {
    const size = entrySize(entry);
    if (size > MAX_REQUEST_BYTES) {
      throw new PublishError(`event ${entry.DetailType} is ${size} bytes, above EventBridge's 256 KB limit`);
    }
    if (current.length === MAX_ENTRIES_PER_CALL || bytes + size > MAX_REQUEST_BYTES) {
      calls.push(current);
      current = [];
      bytes = 0;
    }
    current.push(entry);
    bytes += size;
  }
  if (current.length > 0) calls.push(current);
  return calls;
};

/**
 * Puts events on a bus. Every entry's result is checked; only the failed entries are resent, with
 * capped exponential backoff and jitter; if some still fail after `maxAttempts`, publish() rejects and
 * the cycle does not commit (its journal re-publishes them next time, with the same eventIds).
 */
export class EventBridgeSink implements EventSink {
  readonly stats: EventBridgeStats = { calls: 0, entries: 0, failedEntries: 0, retries: 0 };
  readonly #sleep: (ms: number) => Promise<void>;
  readonly #random: () => number;

  constructor(private readonly options: EventBridgeSinkOptions) {
    this.#sleep = options.sleep ?? ((ms) => new Promise((r) => setTimeout(r, ms)));
    this.#random = options.random ?? Math.random;
  }

  async publish(events: NotifierEvent[]): Promise<void> {
    const entries = events.map(
      (event): PutEventsRequestEntry => ({
        EventBusName: this.options.eventBusName,
        Source: this.options.source,
        DetailType: event.detailType,
        Detail: JSON.stringify(event.detail),
        Time: new Date(event.detail.detectedAt),
      }),
    );
    for (const call of toCalls(entries)) await this.#putWithRetries(call);
  }

  async #putWithRetries(entries: PutEventsRequestEntry[]): Promise<void> {
    const maxAttempts = this.options.maxAttempts ?? 6;
    const base = this.options.baseDelayMs ?? 100;
    let pending = entries;
    let lastError = '';
    for (let attempt = 1; attempt <= maxAttempts; attempt++) {
      if (attempt > 1) {
        this.stats.retries++;
        await this.#sleep(Math.round(this.#random() * Math.min(5_000, base * 2 ** (attempt - 2))));
      }
      this.stats.calls++;
      this.stats.entries += pending.length;
      let results: Array<{ ErrorCode?: string; ErrorMessage?: string }>;
      try {
        const out = await this.options.client.send(new PutEventsCommand({ Entries: pending }));
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
      const failed = pending.filter((_, i) => results[i]?.ErrorCode);
      this.stats.failedEntries += failed.length;
      if (failed.length === 0) return;
      const first = results.find((r) => r.ErrorCode);
      lastError = `${failed.length} entries failed (${first?.ErrorCode}: ${first?.ErrorMessage ?? ''})`;
      pending = failed;
    }
    throw new PublishError(
      `PutEvents to ${this.options.eventBusName} did not accept ${pending.length} event(s) after ${maxAttempts} attempts: ${lastError}`,
    );
  }
}
