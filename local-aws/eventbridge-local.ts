import type { IncomingMessage, ServerResponse } from 'node:http';
import { createServer } from 'node:http';
import { listenOnLoopback } from './loopback.js';

/** One entry as a PutEvents caller sent it. */
interface ReceivedEvent {
  eventId: string;
  busName: string;
  source: string;
  detailType: string;
  detail: Record<string, unknown>;
  time: string | undefined;
}

type PutEventsFault =
  /** These entry indexes of the next call fail (partial failure, HTTP 200). */
  | { kind: 'fail-entries'; indexes: number[]; errorCode?: string }
  /** The whole call is throttled (HTTP 400 ThrottlingException). */
  | { kind: 'throttle' }
  /** The whole call fails with HTTP 500. */
  | { kind: 'server-error' };

export interface LocalEventBridge {
  url: string;
  /** Every accepted entry, in order. */
  events: ReceivedEvent[];
  calls: number;
  faults: PutEventsFault[];
  /** Seeded random partial failures and throttles: probabilities per entry / per call. */
  setRandomFaults(
    spec: { entryFailureRate: number; throttleRate: number; random: () => number } | undefined,
  ): void;
  injected: { failedEntries: number; throttled: number; serverErrors: number };
  /** Called as each PutEvents call arrives, before it is answered (tests kill the caller there). */
  onCall: ((call: number) => Promise<void> | void) | undefined;
  reset(): void;
  close(): Promise<void>;
}

const readJson = async (req: IncomingMessage): Promise<Record<string, unknown>> => {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}');
};

const reply = (res: ServerResponse, status: number, body: unknown) => {
  res.writeHead(status, { 'content-type': 'application/x-amz-json-1.1' });
  res.end(JSON.stringify(body));
};

/**
 * A local endpoint that speaks EventBridge's PutEvents (JSON 1.1 protocol, X-Amz-Target
 * AWSEvents.PutEvents), with injected partial failures, throttling and server errors. The AWS SDK reaches
 * it through AWS_ENDPOINT_URL_EVENTBRIDGE or the client's `endpoint`.
 */
export const startLocalEventBridge = async (port = 0): Promise<LocalEventBridge> => {
  let counter = 0;
  let random: { entryFailureRate: number; throttleRate: number; random: () => number } | undefined;
  const state: LocalEventBridge = {
    url: '',
    events: [],
    calls: 0,
    faults: [],
    injected: { failedEntries: 0, throttled: 0, serverErrors: 0 },
    onCall: undefined,
    setRandomFaults: (spec) => {
      random = spec;
    },
    reset: () => {
      state.events.length = 0;
      state.calls = 0;
      state.faults.length = 0;
      state.onCall = undefined;
    },
    close: async () => {},
  };
  const server = createServer(async (req, res) => {
    try {
      const target = String(req.headers['x-amz-target'] ?? '');
      const body = await readJson(req);
      if (target !== 'AWSEvents.PutEvents') {
        return reply(res, 400, { __type: 'UnknownOperationException', message: `not supported: ${target}` });
      }
      state.calls++;
      await state.onCall?.(state.calls);
      const fault = state.faults.shift();
      if (fault?.kind === 'throttle' || (!fault && random && random.random() < random.throttleRate)) {
        state.injected.throttled++;
        return reply(res, 400, { __type: 'ThrottlingException', message: 'Rate exceeded' });
      }
      if (fault?.kind === 'server-error') {
        state.injected.serverErrors++;
        return reply(res, 500, { __type: 'InternalException', message: 'internal error' });
      }
      const entries = (body.Entries as Array<Record<string, unknown>>) ?? [];
      if (entries.length > 10) {
        return reply(res, 400, { __type: 'ValidationException', message: 'at most 10 entries' });
      }
      let failed = 0;
      const results = entries.map((entry, index) => {
        const injected =
          (fault?.kind === 'fail-entries' && fault.indexes.includes(index)) ||
          (!fault && random !== undefined && random.random() < random.entryFailureRate);
        if (injected) {
          failed++;
          state.injected.failedEntries++;
          const code =
            fault?.kind === 'fail-entries' ? (fault.errorCode ?? 'InternalFailure') : 'ThrottlingException';
          return { ErrorCode: code, ErrorMessage: 'injected failure' };
        }
        counter++;
        const eventId = `local-${counter}`;
        state.events.push({
          eventId,
          busName: String(entry.EventBusName ?? 'default'),
          source: String(entry.Source),
          detailType: String(entry.DetailType),
          detail: JSON.parse(String(entry.Detail)),
          time: entry.Time === undefined ? undefined : String(entry.Time),
        });
        return { EventId: eventId };
      });
      reply(res, 200, { FailedEntryCount: failed, Entries: results });
    } catch (error) {
      reply(res, 500, { __type: 'InternalException', message: (error as Error).message });
    }
  });
  ({ url: state.url, close: state.close } = await listenOnLoopback(server, port));
  return state;
};
