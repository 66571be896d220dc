import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { DynamoStateStore } from '../adapters/dynamodb/state-store.js';
import { DynamoRegistry } from '../adapters/dynamodb-registry.js';
import { setOrganisationCredentials } from '../adapters/secret-organisations.js';
import type { Logger } from '../cycle/ports.js';
import type { RegistryEntry, RunRecord } from '../fanout/plan.js';
import { organisationsToPoll, runKey } from '../fanout/plan.js';
import { awsClient } from '../runtime/clients.js';
import { ConfigError } from '../runtime/config.js';
import { UNNAMED_PARTITION } from '../runtime/state-location.js';
import type { Credentials } from '../uphance/auth.js';
import { exitCodeOf } from './poll.js';

export interface OrganisationsFlags {
  table?: string;
  secret?: string;
  json?: boolean;
}

export interface OrganisationsIo {
  env: Record<string, string | undefined>;
  stdout: (line: string) => void;
  logger: Logger;
  isTty: boolean;
  now?: () => number;
}

export type OrganisationsAction = 'add' | 'remove' | 'list';

const organisationIdOf = (raw: string | undefined): number => {
  if (raw === undefined) throw new ConfigError('give the organisation id, e.g. `organisations add 35804`');
  if (!/^\d{1,15}$/.test(raw) || Number(raw) === 0)
    throw new ConfigError(
      `the organisation id must be a positive whole number (e.g. 35804), got ${JSON.stringify(raw.slice(0, 40))}`,
    );
  return Number(raw);
};

/** The organisation's own credentials from the environment, if any (never printed). */
const ownCredentials = (env: OrganisationsIo['env']): Credentials | undefined => {
  const token = env.UPHANCE_TOKEN?.trim();
  if (token) return { kind: 'token', token };
  const email = env.UPHANCE_EMAIL?.trim();
  const password = env.UPHANCE_PASSWORD;
  if (email && password) return { kind: 'password', email, password };
  if (email || password)
    throw new ConfigError('UPHANCE_EMAIL and UPHANCE_PASSWORD go together: set both, or neither');
  return undefined;
};

/** DynamoDB's and Secrets Manager's "not found" as the configuration errors they are. */
const tableNamed = (table: string) => (error: unknown) => {
  if ((error as Error).name === 'ResourceNotFoundException')
    throw new ConfigError(
      `table ${JSON.stringify(table)} not found (give the stack's StateTableName output, in its region)`,
    );
  throw error;
};

const iso = (ms: number | undefined) => (ms === undefined ? '-' : new Date(ms).toISOString());

interface Row {
  organisationId: number | null;
  credentials: string;
  source: string;
  state: 'active' | 'removed';
  lastCycle: string;
  outcome: string;
  lastCompleted: string;
  error?: string;
}

const rowsOf = (entries: RegistryEntry[], seed: number[], runs: RunRecord[]): Row[] => {
  const runOf = new Map(runs.map((r) => [runKey(r.organisationId), r]));
  const seeded = new Set(seed);
  const registered = new Map(entries.map((e) => [e.organisationId, e]));
  const row = (organisationId: number | null, credentials: string, state: Row['state']): Row => {
    const run = runOf.get(runKey(organisationId));
    const sources = [
      ...(organisationId !== null && seeded.has(organisationId) ? ['seed'] : []),
      ...(organisationId !== null && registered.has(organisationId) ? ['registry'] : []),
    ];
    return {
      organisationId,
      credentials,
      source: sources.join('+') || 'default',
      state,
      lastCycle: iso(run?.finishedAt),
      outcome: run?.outcome ?? '-',
      lastCompleted: iso(run?.completedAt),
      ...(run?.error ? { error: run.error } : {}),
    };
  };
  const active = organisationsToPoll(seed, entries).map((o) =>
    row(o.organisationId, o.credentials, 'active'),
  );
  const removed = entries
    .filter((e) => e.removed)
    .map((e) => row(e.organisationId, e.credentials, 'removed'));
  return [...active, ...removed];
};

const table = (rows: Row[]): string[] => {
  const header: Array<keyof Row> = [
    'organisationId',
    'credentials',
    'source',
    'state',
    'lastCycle',
    'outcome',
    'lastCompleted',
  ];
  const cells = rows.map((r) => [
    ...header.map((h) => String(r[h] ?? 'default')),
    // Text that came from elsewhere (an error message) is printed as a JSON string: no control characters.
    r.error === undefined ? '' : JSON.stringify(r.error),
  ]);
  const titles = [
    'organisation',
    'credentials',
    'source',
    'state',
    'last cycle',
    'outcome',
    'last completed',
    'error',
  ];
  const widths = titles.map((t, i) => Math.max(t.length, ...cells.map((c) => (c[i] ?? '').length)));
  const line = (values: string[]) =>
    values
      .map((v, i) => v.padEnd(widths[i] ?? 0))
      .join('  ')
      .trimEnd();
  return [line(titles), ...cells.map(line)];
};

/**
 * A deployment that names no organisation polls its credentials' own (state `org#default`); once one is
 * added it polls only the organisations named. Adding another than the one it polled would leave that one
 * unpolled, silently: the one it polled (recorded in its state) must be added first.
 */
const refuseToOrphanTheUnnamed = async (registry: DynamoRegistry, tableName: string, added: number) => {
  const { entries, seed } = await registry.read();
  if (entries.length > 0 || (seed ?? []).length > 0) return;
  const unnamed = new DynamoStateStore({
    client: awsClient(DynamoDBClient),
    tableName,
    organisation: UNNAMED_PARTITION,
  });
  const checkpoint = await unnamed.getCheckpoint();
  if (!checkpoint || checkpoint.organisationId === added) return;
  const polled =
    checkpoint.organisationId === undefined
      ? "its credentials' own organisation (not recorded yet: it is after the next cycle)"
      : `organisation ${checkpoint.organisationId}`;
  throw new ConfigError(
    `this deployment names no organisation and polls ${polled} (state org#${UNNAMED_PARTITION}); adding ${added} alone would stop that: add ${checkpoint.organisationId ?? 'that organisation'} first, then ${added}`,
  );
};

/**
 * `uphance-notifier organisations add|remove|list --table NAME`: the organisation registry the deployed
 * dispatcher reads at each period. `add ID` with UPHANCE_TOKEN (or UPHANCE_EMAIL and UPHANCE_PASSWORD)
 * set and `--secret ARN` writes those credentials into the secret's `organisations` map; without them the
 * organisation uses the shared credentials. `remove ID` records it as removed (also for an organisation of
 * the deployment's organisationIds) and, with `--secret`, deletes its own credentials. Exit status 0, or 2
 * for a bad id, an unknown table or secret, 1 anything else.
 */
export const runOrganisations = async (
  action: OrganisationsAction,
  rawId: string | undefined,
  flags: OrganisationsFlags,
  io: OrganisationsIo,
): Promise<number> => {
  const now = io.now ?? Date.now;
  try {
    if (!flags.table) throw new ConfigError("--table NAME is required (the stack's StateTableName output)");
    const registry = new DynamoRegistry({ client: awsClient(DynamoDBClient), tableName: flags.table });
    const named = tableNamed(flags.table);
    if (action === 'list') {
      if (rawId !== undefined) throw new ConfigError('`organisations list` takes no organisation id');
      const [{ entries, seed }, runs] = await Promise.all([registry.read(), registry.runs()]).catch(named);
      const rows = rowsOf(entries, seed ?? [], runs);
      if (flags.json || !io.isTty) for (const row of rows) io.stdout(JSON.stringify(row));
      else for (const line of table(rows)) io.stdout(line);
      return 0;
    }
    const organisationId = organisationIdOf(rawId);
    // The table first: an unknown table is found before the secret is touched.
    await registry.entry(organisationId).catch(named);
    const secrets = () => awsClient(SecretsManagerClient);
    if (action === 'add') {
      await refuseToOrphanTheUnnamed(registry, flags.table, organisationId);
      const credentials = ownCredentials(io.env);
      if (credentials && !flags.secret)
        throw new ConfigError(
          "UPHANCE_TOKEN (or UPHANCE_EMAIL) is set: give --secret ARN (the stack's UphanceSecretArn output) to keep them as this organisation's own, or unset them to use the shared credentials",
        );
      if (flags.secret) {
        const changed = await setOrganisationCredentials(
          secrets(),
          flags.secret,
          organisationId,
          credentials,
        );
        if (!credentials && changed)
          io.logger.info(`organisation ${organisationId}: its own credentials removed from the secret`);
      }
      await registry.add(organisationId, credentials ? 'own' : 'shared', now());
      io.stdout(
        `organisation ${organisationId} added with ${credentials ? "its own credentials (in the secret's organisations map)" : 'the shared credentials'}: polled from the next period`,
      );
      return 0;
    }
    // The registry first: an organisation is never left polled without the credentials it names.
    await registry.remove(organisationId, now());
    await registry.forgetRuns(organisationId);
    if (flags.secret) {
      const changed = await setOrganisationCredentials(secrets(), flags.secret, organisationId, undefined);
      if (changed)
        io.logger.info(`organisation ${organisationId}: its own credentials removed from the secret`);
    }
    io.stdout(
      `organisation ${organisationId} removed: not polled from the next period (its state stays in the table; add it again to resume)`,
    );
    return 0;
  } catch (error) {
    io.logger.error((error as Error).message);
    return exitCodeOf(error);
  }
};
