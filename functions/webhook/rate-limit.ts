/**
 * Token buckets per source address and one for everyone: a flood costs an answer (429), never a look-up.
 * Consulted only once the secret has matched (judgeHead), so guesses never spend what Uphance needs.
 * Memory is bounded: at most `maxAddresses` buckets are kept (the oldest-used goes first).
 */
export interface RateLimitOptions {
  /** Requests a minute per source address (default 120: Uphance sends from a few addresses). */
  perAddressPerMinute?: number;
  /** Requests a minute in all (default 600). */
  totalPerMinute?: number;
  maxAddresses?: number;
}

interface Bucket {
  tokens: number;
  at: number;
}

export class RateLimiter {
  readonly #perAddress: number;
  readonly #total: number;
  readonly #maxAddresses: number;
  readonly #buckets = new Map<string, Bucket>();
  #all: Bucket;

  constructor(options: RateLimitOptions = {}, nowMs = 0) {
    this.#perAddress = options.perAddressPerMinute ?? 120;
    this.#total = options.totalPerMinute ?? 600;
    this.#maxAddresses = options.maxAddresses ?? 10_000;
    this.#all = { tokens: this.#total, at: nowMs };
  }

  /** Whether a request from `address` at `nowMs` may go on (it then uses a token of both buckets). */
  allow(address: string, nowMs: number): boolean {
    const own = this.#buckets.get(address) ?? { tokens: this.#perAddress, at: nowMs };
    this.#buckets.delete(address);
    this.#buckets.set(address, own);
    if (this.#buckets.size > this.#maxAddresses) {
      const oldest = this.#buckets.keys().next().value;
      if (oldest !== undefined) this.#buckets.delete(oldest);
    }
    refill(own, this.#perAddress, nowMs);
    refill(this.#all, this.#total, nowMs);
    if (own.tokens < 1 || this.#all.tokens < 1) return false;
    own.tokens--;
    this.#all.tokens--;
    return true;
  }
}

const refill = (bucket: Bucket, perMinute: number, nowMs: number) => {
  const elapsed = Math.max(0, nowMs - bucket.at);
  bucket.tokens = Math.min(perMinute, bucket.tokens + (elapsed * perMinute) / 60_000);
  bucket.at = nowMs;
};
