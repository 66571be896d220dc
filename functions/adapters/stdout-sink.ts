import type { NotifierEvent } from '../core/events/catalogue.js';
import { toEnvelope } from '../core/events/envelope.js';
import type { EventSink, PublishResult } from '../cycle/ports.js';
import { lineOf } from '../messages/message.js';

export interface StdoutSinkOptions {
  source: string;
  write?: (line: string) => void;
  /** Readable one-line summaries instead of NDJSON (for a terminal). */
  pretty?: boolean;
  region?: string;
  account?: string;
}

const COLOURS: Record<string, string> = {
  OrderCreated: '\x1b[36m',
  StageStarted: '\x1b[33m',
  StageCompleted: '\x1b[32m',
  OrderAllReceived: '\x1b[32;1m',
  OrderRemoved: '\x1b[31m',
  OrderStageCompleted: '\x1b[32;1m',
  OrderDueSoon: '\x1b[33;1m',
  OrderOverdue: '\x1b[31;1m',
  StageStalled: '\x1b[31m',
  OrderAtRisk: '\x1b[35;1m',
};

/**
 * Prints each event as one JSON line shaped as EventBridge delivers it to a target (docs/contract.md section 3), or,
 * on a terminal, a coloured one-line summary.
 */
export class StdoutSink implements EventSink {
  readonly #write: (line: string) => void;
  constructor(private readonly options: StdoutSinkOptions) {
    this.#write = options.write ?? ((line) => process.stdout.write(`${line}\n`));
  }

  async publish(events: NotifierEvent[]): Promise<PublishResult> {
    for (const event of events) {
      if (this.options.pretty) {
        const colour = COLOURS[event.detailType] ?? '\x1b[35m';
        this.#write(
          `${colour}${event.detailType.padEnd(27)}\x1b[0m #${event.detail.sequence} ${lineOf(event)}`,
        );
      } else {
        this.#write(JSON.stringify(toEnvelope(event, this.options)));
      }
    }
    return { rejected: [] };
  }
}
