import { seededRandom } from './random.js';

export type FaultKind = 'rate_limit' | 'server_error' | 'slow' | 'drop' | 'malformed';

export interface Fault {
  kind: FaultKind;
  /** rate_limit: the Retry-After header to send (seconds or an HTTP date); omitted when undefined. */
  retryAfter?: string;
  /** server_error: the status (default 503). */
  status?: number;
  /** slow: how long to hold the response. */
  delayMs?: number;
  /** Only requests whose path starts with this (default: any). */
  path?: string;
}

export interface RandomFaults {
  seed: number;
  rates: Partial<Record<FaultKind, number>>;
  retryAfter?: string;
  slowMs?: number;
}

/** Injected faults: a queue of one-shot faults taken in order, plus optional seeded random ones. */
export class FaultInjector {
  readonly #queue: Fault[] = [];
  #random: { rng: () => number; spec: RandomFaults } | undefined;
  readonly injected: Record<FaultKind, number> = {
    rate_limit: 0,
    server_error: 0,
    slow: 0,
    drop: 0,
    malformed: 0,
  };

  /** Queues faults for the next matching requests, `times` each. */
  next(fault: Fault, times = 1): this {
    for (let i = 0; i < times; i++) this.#queue.push(fault);
    return this;
  }

  randomly(spec: RandomFaults | undefined): this {
    this.#random = spec ? { rng: seededRandom(spec.seed), spec } : undefined;
    return this;
  }

  clear(): void {
    this.#queue.length = 0;
    this.#random = undefined;
  }

  get pending(): number {
    return this.#queue.length;
  }

  take(path: string): Fault | undefined {
    const index = this.#queue.findIndex((f) => f.path === undefined || path.startsWith(f.path));
    let fault: Fault | undefined;
    if (index >= 0) fault = this.#queue.splice(index, 1)[0];
    else if (this.#random) {
      const { rng, spec } = this.#random;
      for (const [kind, rate] of Object.entries(spec.rates) as Array<[FaultKind, number]>) {
        if (rng() < rate) {
          fault = { kind, retryAfter: spec.retryAfter ?? '0', delayMs: spec.slowMs ?? 50 };
          break;
        }
      }
    }
    if (fault) this.injected[fault.kind]++;
    return fault;
  }
}
