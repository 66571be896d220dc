import { mkdir, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { buildBoard } from '../board/model.js';
import { renderBoard } from '../board/render.js';
import type { Logger, StateStore } from '../cycle/ports.js';
import { readSnapshots } from '../cycle/snapshot-reader.js';
import type { DigestMarker } from '../digest/marker.js';
import { awsClient } from '../runtime/clients.js';
import type { SignalFlags } from '../runtime/config.js';
import { ConfigError, parseOrganisationIds, signalSettings } from '../runtime/config.js';
import { digestMarkerAt } from '../runtime/digest.js';
import { storeFor } from '../runtime/runtime.js';
import { DEFAULT_STATE_FILE, exitCodeOf } from './poll.js';

export interface StateFlags extends SignalFlags {
  state?: string;
  table?: string;
  /** One organisation of UPHANCE_ORGANISATION_ID (board: default the first; digest: default all). */
  organisation?: string;
}

export interface ReadIo {
  env: Record<string, string | undefined>;
  stdout: (text: string) => void;
  logger: Logger;
  now?: () => number;
}

/** One organisation's state as a read-only command sees it (no lease, no request to Uphance). */
export interface OrganisationState {
  /** undefined: no organisation configured (the token's own, keys under "default"). */
  organisationId: number | undefined;
  store: StateStore;
  marker: DigestMarker;
}

/**
 * The states a read-only command looks at, one per organisation of UPHANCE_ORGANISATION_ID (found where
 * the poller finds them: state-location.ts), or only the one --organisation names; each with its digest
 * marker beside it.
 */
export const statesOf = async (flags: StateFlags, env: ReadIo['env']): Promise<OrganisationState[]> => {
  if (flags.state && flags.table) throw new ConfigError('give either --state FILE or --table NAME, not both');
  const configured = parseOrganisationIds(env.UPHANCE_ORGANISATION_ID);
  let ids: Array<number | undefined> = configured.length > 0 ? configured : [undefined];
  if (flags.organisation !== undefined) {
    // Without the list the poller keeps the token's own state (no organisation key): nothing to choose.
    if (configured.length === 0)
      throw new ConfigError(
        '--organisation needs UPHANCE_ORGANISATION_ID (the organisations the poller polls); without it there is one state',
      );
    const chosen = parseOrganisationIds(flags.organisation, '--organisation');
    const [id] = chosen;
    if (id === undefined || chosen.length !== 1)
      throw new ConfigError(`--organisation takes one organisation id, got "${flags.organisation}"`);
    if (configured.length > 0 && !configured.includes(id))
      throw new ConfigError(
        `--organisation ${id} is not one of UPHANCE_ORGANISATION_ID (${configured.join(',')})`,
      );
    ids = [id];
  }
  const several = configured.length > 1;
  const client = flags.table ? awsClient(DynamoDBClient) : undefined;
  const state = flags.table
    ? ({ kind: 'dynamodb', tableName: flags.table } as const)
    : ({ kind: 'file', path: flags.state ?? DEFAULT_STATE_FILE } as const);
  return Promise.all(
    ids.map(async (organisationId) => {
      // Where the poller finds it (state-location.ts): the marker lives beside it.
      const store = storeFor({ organisationId, several, state }, client ? { dynamodb: client } : {});
      const location = await store.location();
      // The marker goes with the state: beside its file, or in the marker partition of its partition.
      return { organisationId, store, marker: digestMarkerAt(location, client) };
    }),
  );
};

/** The board page of a state, as HTML. */
export const boardHtml = async (
  flags: StateFlags,
  env: ReadIo['env'],
  now: number,
  refreshSeconds?: number,
) => {
  const settings = signalSettings(env, flags);
  // One organisation's board: --organisation, else the first configured.
  const [first] = await statesOf(flags, env);
  const [snapshots, history] = first
    ? await Promise.all([readSnapshots(first.store), first.store.readHistory()])
    : [[], undefined];
  const model = buildBoard(snapshots, now, settings, history);
  return renderBoard(model, { refreshSeconds });
};

/** `uphance-notifier board`: writes the board page to --out, or to stdout. Returns the exit code. */
export const runBoard = async (flags: StateFlags & { out?: string }, io: ReadIo): Promise<number> => {
  try {
    const html = await boardHtml(flags, io.env, (io.now ?? Date.now)());
    if (flags.out) {
      await mkdir(dirname(flags.out), { recursive: true });
      await writeFile(flags.out, html);
      io.logger.info(`board written to ${flags.out}`);
    } else io.stdout(html);
    return 0;
  } catch (error) {
    io.logger.error((error as Error).message);
    return exitCodeOf(error);
  }
};
