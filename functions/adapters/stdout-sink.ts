import type { NotifierEvent } from '../core/events/catalogue.js';
import { toEnvelope } from '../core/events/envelope.js';
import type { EventSink, PublishResult } from '../cycle/ports.js';

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
};

/** A one-line human summary, e.g. "PO 1308 · Tribal Sportswear Inc. · Sewing completed · 3465O-3206 Lt. Peach". */
export const summarise = (event: NotifierEvent): string => {
  const d = event.detail;
  const head = `PO ${d.order.number} · ${d.order.companyName ?? 'unknown company'}`;
  switch (event.detailType) {
    case 'StageStarted':
    case 'StageCompleted': {
      const e = event.detail;
      const verb = event.detailType === 'StageStarted' ? 'started' : 'completed';
      return `${head} · ${e.stage.name} ${verb} · ${[e.lineItem.productName, e.lineItem.color].filter(Boolean).join(' ')}`;
    }
    case 'OrderStatusChanged':
    case 'OrderDeliveryStatusChanged':
    case 'OrderDueDateChanged': {
      const what = {
        OrderStatusChanged: 'status',
        OrderDeliveryStatusChanged: 'delivery',
        OrderDueDateChanged: 'due date',
      }[event.detailType];
      return `${head} · ${what} ${event.detail.change.from ?? '—'} → ${event.detail.change.to ?? '—'}`;
    }
    case 'OrderAllReceived':
      return `${head} · all received`;
    case 'OrderCreated':
      return `${head} · new order (${d.order.status})`;
    case 'OrderRemoved':
      return `${head} · removed`;
  }
};

/**
 * Prints each event as one JSON line shaped as EventBridge delivers it to a target (CONTRACT.md §3), or,
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
          `${colour}${event.detailType.padEnd(27)}\x1b[0m #${event.detail.sequence} ${summarise(event)}`,
        );
      } else {
        this.#write(JSON.stringify(toEnvelope(event, this.options)));
      }
    }
    return { rejected: [] };
  }
}
