const keyOf = (organisationId: number | undefined, number: string) => `${organisationId ?? ''}:${number}`;

/**
 * When each order's last completed check started, per organisation, so that a queued check whose ticket
 * came before it is acknowledged without another look-up: a burst that SQS queued as two messages (it
 * straddled a slot), a ticket fanned out to an organisation that has just checked the order. Kept in the
 * memory of a warm check function: a cold one looks up again, which costs a request and never a change.
 * Time is passed in; at most `maxEntries` orders are remembered (the least recently checked go first).
 */
export class RecentChecks {
  readonly #startedAt = new Map<string, number>();
  readonly #maxEntries: number;

  constructor(maxEntries = 10_000) {
    this.#maxEntries = maxEntries;
  }

  /** Whether a check that started after the ticket (`ticketAt`) has completed; unknown times never are. */
  covers(organisationId: number | undefined, number: string, ticketAt: number | undefined): boolean {
    const startedAt = this.#startedAt.get(keyOf(organisationId, number));
    return ticketAt !== undefined && startedAt !== undefined && ticketAt < startedAt;
  }

  /** Records a completed check of `number` that started at `startedAt`. */
  record(organisationId: number | undefined, number: string, startedAt: number): void {
    const key = keyOf(organisationId, number);
    const known = this.#startedAt.get(key);
    this.#startedAt.delete(key);
    this.#startedAt.set(key, Math.max(startedAt, known ?? startedAt));
    if (this.#startedAt.size > this.#maxEntries) {
      const oldest = this.#startedAt.keys().next().value;
      if (oldest !== undefined) this.#startedAt.delete(oldest);
    }
  }
}
