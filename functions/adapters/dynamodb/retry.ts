/**
 * How the store asks again when DynamoDB throttles, leaves keys unprocessed or cancels a transaction on a
 * conflict: capped exponential backoff with jitter (shared/timing.ts), a bounded number of attempts.
 */
export const BACKOFF = { baseDelayMs: 50, maxDelayMs: 2_000 };
export const MAX_ATTEMPTS = 10;
