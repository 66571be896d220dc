import { tmpdir, userInfo } from 'node:os';
import { join, resolve } from 'node:path';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { DynamoLease } from '../adapters/dynamodb/lease.js';
import { DynamoStateStore } from '../adapters/dynamodb/state-store.js';
import type { DynamoStats } from '../adapters/dynamodb/stats.js';
import { emptyDynamoStats, statsMeter } from '../adapters/dynamodb/stats.js';
import type { EventBridgeStats } from '../adapters/eventbridge-sink.js';
import { EventBridgeSink } from '../adapters/eventbridge-sink.js';
import { FileLease } from '../adapters/file/lease.js';
import { FileStateStore } from '../adapters/file/state-store.js';
import { StdoutSink } from '../adapters/stdout-sink.js';
import { UphanceOrderSource } from '../adapters/uphance-source.js';
import type { CycleDependencies } from '../cycle/cycle.js';
import { organisationSink } from '../cycle/organisation-sink.js';
import type { EventSink, LeaseStore, Logger, StateStore } from '../cycle/ports.js';
import type { LeaseOutcome } from '../cycle/records.js';
import type { Credentials } from '../uphance/auth.js';
import type { UphanceClientOptions } from '../uphance/client.js';
import { UphanceClient } from '../uphance/client.js';
import { credentialsKey } from '../uphance/credentials-key.js';
import type { TransportEvent } from '../uphance/transport.js';
import { awsClient } from './clients.js';
import type { Discovery, StateLocation, StateSetting } from './state-location.js';
import { LocatedStateStore } from './state-location.js';

/** Everything one runner needs, from the CLI's flags or the Lambda's environment. */
export interface RuntimeSettings {
  apiUrl: string;
  credentials: Credentials;
  organisationId: number | undefined;
  /**
   * Whether other organisations are configured beside this one (their states then live apart: the state
   * of a single organisation is the configured file, or `org#default` in the table when unnamed).
   */
  several?: boolean;
  state: StateSetting;
  /**
   * Where the host-wide leases on credentials live (command lines on one host take turns on shared
   * credentials through them); absent: none (a Lambda has only the table's).
   */
  hostLockDir?: string;
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
  /** Pages refused because they came back for another organisation (another runner's selection). */
  foreignPages: number;
}

export interface Runtime {
  deps: Omit<CycleDependencies, 'now' | 'logger'>;
  client: UphanceClient;
  apiStats: ApiStats;
  store: StateStore;
  sink: EventSink;
  /** What the store and the sink consumed, where they count it (a table's units, a bus's entries). */
  usage: { store: DynamoStats | undefined; sink: EventBridgeStats | undefined };
}

/** The AWS clients a runtime uses; those not given are made (runtime/clients.ts). */
export type Clients = { dynamodb?: DynamoDBClient; eventbridge?: EventBridgeClient };

/** How a store or a sink waits between its retries (default: a timer; the soak's clock instead). */
type Waits = { sleep?: (ms: number, signal?: AbortSignal) => Promise<unknown> };

/**
 * The store of one place (a file, or a partition of a table), its DynamoDB figures counted in `stats`
 * (a count of its own by default).
 */
export function storeAt(
  location: Extract<StateLocation, { kind: 'dynamodb' }>,
  clients?: Clients,
  options?: Waits & { stats?: DynamoStats },
): DynamoStateStore;
export function storeAt(
  location: StateLocation,
  clients?: Clients,
  options?: Waits & { stats?: DynamoStats },
): FileStateStore | DynamoStateStore;
export function storeAt(
  location: StateLocation,
  clients: Clients = {},
  options: Waits & { stats?: DynamoStats } = {},
): FileStateStore | DynamoStateStore {
  return location.kind === 'file'
    ? new FileStateStore(location.path)
    : new DynamoStateStore({
        client: clients.dynamodb ?? awsClient(DynamoDBClient),
        tableName: location.tableName,
        organisation: location.partition,
        ...options,
      });
}

/**
 * The state store of one organisation, found where its state is (state-location.ts): its own, or the one
 * it had before the configuration changed. One store per place; DynamoDB figures counted together.
 */
export const storeFor = (
  settings: Pick<RuntimeSettings, 'state' | 'organisationId' | 'several'>,
  clients: Clients = {},
  discovery?: Discovery,
): LocatedStateStore & { stats?: DynamoStats } => {
  const stats = settings.state.kind === 'dynamodb' ? emptyDynamoStats() : undefined;
  const dynamodb =
    settings.state.kind === 'dynamodb' ? (clients.dynamodb ?? awsClient(DynamoDBClient)) : undefined;
  const stores = new Map<string, StateStore>();
  const open = (location: StateLocation): StateStore => {
    const key = JSON.stringify(location);
    let store = stores.get(key);
    if (!store) {
      store = storeAt(location, { ...clients, ...(dynamodb ? { dynamodb } : {}) }, stats ? { stats } : {});
      stores.set(key, store);
    }
    return store;
  };
  const located = new LocatedStateStore(
    settings.state,
    settings.organisationId,
    settings.several ?? false,
    open,
    discovery,
  ) as LocatedStateStore & { stats?: DynamoStats };
  if (stats) located.stats = stats;
  return located;
};

/** What a runtime's runs are for: its state's setting and its organisation (not a secret). */
const scopeOf = (settings: Pick<RuntimeSettings, 'state' | 'organisationId'>): string =>
  `${settings.state.kind === 'file' ? `file:${resolve(settings.state.path)}` : `table:${settings.state.tableName}`}|${settings.organisationId ?? 'unnamed'}`;

/**
 * The default place of the host-wide credentials leases: this user's, beside the system's temporary files
 * (a directory shared by all users could be made unusable by any of them). Command lines of several users
 * of one host on the same credentials set UPHANCE_NOTIFIER_LOCK_DIR to one directory they can all write.
 */
export const DEFAULT_HOST_LOCK_DIR = join(tmpdir(), `uphance-notifier-locks-${userInfo().uid}`);

/**
 * The leases on a runner's Uphance credentials: one on this host (a file, when the runner is a command
 * line) and one in the table (when the state is in one), so that every runner that may select another
 * organisation on the same credentials — here or elsewhere — takes turns with this one.
 */
const credentialLeasesFor = (
  settings: Pick<RuntimeSettings, 'apiUrl' | 'credentials' | 'state' | 'hostLockDir'>,
  clients: Clients = {},
  stats?: DynamoStats,
): LeaseStore[] => {
  const key = credentialsKey(settings.apiUrl, settings.credentials);
  const leases: LeaseStore[] = [];
  if (settings.hostLockDir !== undefined) {
    leases.push(new FileLease(join(settings.hostLockDir, `credentials-${key}.lease`)));
  }
  if (settings.state.kind === 'dynamodb') {
    leases.push(
      new DynamoLease({
        client: clients.dynamodb ?? awsClient(DynamoDBClient),
        tableName: settings.state.tableName,
        pk: `cred#${key}`,
        ...(stats ? { meter: statsMeter(stats) } : {}),
      }),
    );
  }
  return leases;
};

type SinkOptions = Waits & { maxAttempts?: number };

/** Where a runner's events go: stdout (NDJSON or one readable line each), or a bus (PutEvents). */
export function sinkFor(
  settings: { sink: Extract<RuntimeSettings['sink'], { kind: 'eventbridge' }>; source: string },
  clients?: Clients,
  options?: SinkOptions,
): EventBridgeSink;
export function sinkFor(
  settings: Pick<RuntimeSettings, 'sink' | 'source'>,
  clients?: Clients,
  options?: SinkOptions,
): EventSink;
export function sinkFor(
  settings: Pick<RuntimeSettings, 'sink' | 'source'>,
  clients: Clients = {},
  options: SinkOptions = {},
): EventSink {
  return settings.sink.kind === 'stdout'
    ? new StdoutSink({ source: settings.source, pretty: settings.sink.pretty, write: settings.sink.write })
    : new EventBridgeSink({
        client: clients.eventbridge ?? awsClient(EventBridgeClient),
        eventBusName: settings.sink.busName,
        source: settings.source,
        ...options,
      });
}

/**
 * A runner's Uphance side: the API client (its requests counted in `apiStats`, retries and answers for
 * another organisation logged) and the order source over it. `overrides` reach the client (the soak's
 * clock, faults and retries).
 */
export const uphanceFor = (
  settings: Pick<RuntimeSettings, 'apiUrl' | 'credentials' | 'organisationId' | 'requestTimeoutMs'>,
  logger: Logger,
  overrides: Pick<UphanceClientOptions, 'clock' | 'random' | 'retry' | 'fetch'> = {},
) => {
  const apiStats: ApiStats = { requests: 0, retries: 0, failures: 0, waitingMs: 0, foreignPages: 0 };
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
    } else if (event.type === 'foreign-organisation') {
      apiStats.foreignPages++;
      logger.warn('Uphance answered for another organisation; selecting ours again and asking again', {
        endpoint: event.endpoint,
        expected: event.expected,
        actual: event.actual,
      });
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
    ...overrides,
  });
  return { client, source: new UphanceOrderSource(client), apiStats };
};

/** The composition root: the adapters behind the cycle's ports. */
export const buildRuntime = (settings: RuntimeSettings, logger: Logger, clients: Clients = {}): Runtime => {
  const { client, source, apiStats } = uphanceFor(settings, logger);
  // Finding the state may ask Uphance whose an old state is, or whose the credentials are (under the run's
  // turn on them: the state is found when its lease is taken, after the credentials').
  const discovery: Discovery = {
    ownsSomeOf: async (orders) => {
      for (const order of orders) {
        const found = await source.findByNumber(order.number);
        if (found.orders.some((o) => o.id === order.id)) return true;
      }
      return false;
    },
    currentOrganisation: async () => {
      for await (const page of client.listProductionOrders({})) {
        return page.items.find((o) => o.organisation_id !== null)?.organisation_id ?? undefined;
      }
      return undefined;
    },
  };
  const store = storeFor(settings, clients, discovery);
  const sink = sinkFor(settings, clients);
  // A run's turn on the credentials starts with selecting its organisation again: whoever had the turn
  // before may have selected another.
  const credentials = credentialLeasesFor(settings, clients, store.stats).map(
    (lease): LeaseStore => ({
      acquire: async (claim) => reselected(await lease.acquire(claim)),
      takeOver: async (claim, holder) => reselected(await lease.takeOver(claim, holder)),
      release: (held) => lease.release(held),
    }),
  );
  const reselected = (outcome: LeaseOutcome): LeaseOutcome => {
    if (outcome.kind === 'acquired') client.reselectOrganisation();
    return outcome;
  };
  // With an organisation configured, every event names it (detail.organisationId).
  const cycleSink =
    settings.organisationId === undefined ? sink : organisationSink(sink, settings.organisationId);
  return {
    deps: {
      source,
      store,
      sink: cycleSink,
      credentials,
      scope: scopeOf(settings),
      organisation: () => store.organisation(),
    },
    client,
    apiStats,
    store,
    sink,
    usage: { store: store.stats, sink: sink instanceof EventBridgeSink ? sink.stats : undefined },
  };
};
