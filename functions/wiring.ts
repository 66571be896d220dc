import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { DynamoStateStore, dynamoDbClient } from './adapters/dynamodb-store.js';
import { EventBridgeSink } from './adapters/eventbridge-sink.js';
import { FileStateStore } from './adapters/file-store.js';
import { StdoutSink } from './adapters/stdout-sink.js';
import { UphanceOrderSource } from './adapters/uphance-source.js';
import type { CycleDependencies } from './cycle/cycle.js';
import { organisationSink } from './cycle/organisation-sink.js';
import type { EventSink, Logger, StateStore } from './cycle/ports.js';
import type { Credentials } from './uphance/auth.js';
import { UphanceClient } from './uphance/client.js';
import type { TransportEvent } from './uphance/transport.js';

/** Everything one runner needs, from the CLI's flags or the Lambda's environment. */
export interface RuntimeSettings {
  apiUrl: string;
  credentials: Credentials;
  organisationId: number | undefined;
  state: { kind: 'file'; path: string } | { kind: 'dynamodb'; tableName: string };
  sink:
    | { kind: 'stdout'; pretty: boolean; write?: (line: string) => void }
    | { kind: 'eventbridge'; busName: string };
  source: string;
  requestTimeoutMs: number;
}

/** API usage of one runner, for metrics and the benchmark. */
interface ApiStats {
  requests: number;
  retries: number;
  failures: number;
  /** Time spent waiting on Uphance (sum of request durations). */
  waitingMs: number;
}

export interface Runtime {
  deps: Omit<CycleDependencies, 'now' | 'logger'>;
  client: UphanceClient;
  apiStats: ApiStats;
  store: StateStore;
  sink: EventSink;
}

type Clients = { dynamodb?: DynamoDBClient; eventbridge?: EventBridgeClient };

/** The state store of one organisation (its keys are scoped by the organisation id). */
export const storeFor = (
  settings: Pick<RuntimeSettings, 'state' | 'organisationId'>,
  clients: Clients = {},
): StateStore =>
  settings.state.kind === 'file'
    ? new FileStateStore(settings.state.path)
    : new DynamoStateStore({
        client: clients.dynamodb ?? dynamoDbClient(),
        tableName: settings.state.tableName,
        organisation: settings.organisationId === undefined ? 'default' : String(settings.organisationId),
      });

export const sinkFor = (
  settings: Pick<RuntimeSettings, 'sink' | 'source'>,
  clients: Clients = {},
): EventSink =>
  settings.sink.kind === 'stdout'
    ? new StdoutSink({ source: settings.source, pretty: settings.sink.pretty, write: settings.sink.write })
    : new EventBridgeSink({
        client: clients.eventbridge ?? new EventBridgeClient({}),
        eventBusName: settings.sink.busName,
        source: settings.source,
      });

/** The composition root: the adapters behind the cycle's ports. */
export const buildRuntime = (settings: RuntimeSettings, logger: Logger, clients: Clients = {}): Runtime => {
  const apiStats: ApiStats = { requests: 0, retries: 0, failures: 0, waitingMs: 0 };
  const onEvent = (event: TransportEvent) => {
    if (event.type === 'response') {
      apiStats.requests++;
      apiStats.waitingMs += event.durationMs;
      logger.debug('uphance request', {
        endpoint: event.endpoint,
        status: event.status,
        ms: event.durationMs,
      });
    } else if (event.type === 'failure') {
      apiStats.requests++;
      apiStats.failures++;
      apiStats.waitingMs += event.durationMs;
    } else {
      apiStats.retries++;
      logger.warn('retrying an Uphance request', {
        endpoint: event.endpoint,
        attempt: event.attempt,
        delayMs: event.delayMs,
        reason: event.reason,
      });
    }
  };
  const client = new UphanceClient({
    baseUrl: settings.apiUrl,
    credentials: settings.credentials,
    organisationId: settings.organisationId,
    timeoutMs: settings.requestTimeoutMs,
    onEvent,
  });
  const store = storeFor(settings, clients);
  const sink = sinkFor(settings, clients);
  // With an organisation configured, every event names it (detail.organisationId).
  const cycleSink =
    settings.organisationId === undefined ? sink : organisationSink(sink, settings.organisationId);
  return {
    deps: { source: new UphanceOrderSource(client), store, sink: cycleSink },
    client,
    apiStats,
    store,
    sink,
  };
};
