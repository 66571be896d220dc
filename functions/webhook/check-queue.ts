import type { CheckRequest } from './intake.js';

export interface CheckQueueOptions {
  /** A first ticket waits this long, so that a burst for one order costs one look-up (default 2 s). */
  settleMs?: number;
  /**
   * At most one check per order in this window (default 60 s): tickets arriving after its check wait for
   * one more check at the window's end, so the last ticket's change is never left to the schedule.
   */
  windowMs?: number;
  /** Orders waiting at most (default 1,000); beyond, a ticket is left to the scheduled cycle. */
  maxPending?: number;
}

export type QueueOutcome = 'queued' | 'coalesced' | 'full';

const keyOf = (request: CheckRequest): string => `${request.organisationId ?? ''}:${request.number}`;

/**
 * The coalescing queue between the webhook listener and the targeted check: repeats of a pending order
 * coalesce; an order is checked at most once a window (leading check after `settleMs`, one trailing check
 * at the window's end if tickets kept coming). Time is passed in: no timers here.
 */
export class CheckQueue {
  readonly #settleMs: number;
  readonly #windowMs: number;
  readonly #maxPending: number;
  readonly #pending = new Map<string, { request: CheckRequest; dueAt: number }>();
  readonly #checkedAt = new Map<string, number>();
  coalesced = 0;

  constructor(options: CheckQueueOptions = {}) {
    this.#settleMs = options.settleMs ?? 2_000;
    this.#windowMs = options.windowMs ?? 60_000;
    this.#maxPending = options.maxPending ?? 1_000;
  }

  get size(): number {
    return this.#pending.size;
  }

  add(request: CheckRequest, nowMs: number): QueueOutcome {
    const key = keyOf(request);
    if (this.#pending.has(key)) {
      this.coalesced++;
      return 'coalesced';
    }
    if (this.#pending.size >= this.#maxPending) return 'full';
    const last = this.#checkedAt.get(key);
    const dueAt =
      last !== undefined && nowMs < last + this.#windowMs ? last + this.#windowMs : nowMs + this.#settleMs;
    this.#pending.set(key, { request, dueAt });
    return 'queued';
  }

  /** When the next order falls due, if any is waiting. */
  nextDueAt(): number | undefined {
    let next: number | undefined;
    for (const { dueAt } of this.#pending.values()) if (next === undefined || dueAt < next) next = dueAt;
    return next;
  }

  /** Takes the orders due at `nowMs` (they count as checked now). */
  take(nowMs: number): CheckRequest[] {
    const due: CheckRequest[] = [];
    for (const [key, entry] of this.#pending) {
      if (entry.dueAt > nowMs) continue;
      this.#pending.delete(key);
      this.#checkedAt.set(key, nowMs);
      due.push(entry.request);
    }
    for (const [key, at] of this.#checkedAt) if (at + this.#windowMs <= nowMs) this.#checkedAt.delete(key);
    return due;
  }

  /** Puts back orders whose check could not run (another runner held the lease): due again after settleMs. */
  retry(requests: CheckRequest[], nowMs: number): void {
    for (const request of requests) {
      const key = keyOf(request);
      if (!this.#pending.has(key)) this.#pending.set(key, { request, dueAt: nowMs + this.#settleMs });
    }
  }
}
