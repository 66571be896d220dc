import type { NotifierEvent } from '../core/events/catalogue.js';
import { toEnvelope } from '../core/events/envelope.js';
import type { EventSink, PublishResult } from '../cycle/ports.js';
import { terminalLineOf } from '../messages/message.js';

export interface StdoutSinkOptions {
  source: string;
  write?: (line: string) => void;
  /** Readable one-line summaries instead of NDJSON (for a terminal). */
  pretty?: boolean;
  region?: string;
  account?: string;
}

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
        this.#write(terminalLineOf(event));
      } else {
        this.#write(JSON.stringify(toEnvelope(event, this.options)));
      }
    }
    return { rejected: [] };
  }
}
