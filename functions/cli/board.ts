import { mkdir, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { buildBoard } from '../board/model.js';
import { readSnapshots } from '../board/read-state.js';
import { renderBoard } from '../board/render.js';
import type { SettingFlags } from '../board/settings.js';
import { boardSettings } from '../board/settings.js';
import { ConfigError, uphanceSettings } from '../config.js';
import type { Logger } from '../cycle/ports.js';
import type { DigestMarker } from '../digest/marker.js';
import { DynamoDigestMarker, FileDigestMarker } from '../digest/marker.js';
import { storeFor } from '../wiring.js';
import { DEFAULT_STATE_FILE, exitCodeOf } from './poll.js';

export interface StateFlags extends SettingFlags {
  state?: string;
  table?: string;
}

export interface ReadIo {
  env: Record<string, string | undefined>;
  stdout: (text: string) => void;
  logger: Logger;
  now?: () => number;
}

/** The state a read-only command looks at (no lease, no request to Uphance), and its digest marker. */
export const stateOf = (flags: StateFlags, env: ReadIo['env']) => {
  if (flags.state && flags.table) throw new ConfigError('give either --state FILE or --table NAME, not both');
  const organisationId = uphanceSettings(env).organisationId;
  if (flags.table) {
    const client = new DynamoDBClient({});
    const store = storeFor(
      { organisationId, state: { kind: 'dynamodb', tableName: flags.table } },
      { dynamodb: client },
    );
    const marker: DigestMarker = new DynamoDigestMarker(
      client,
      flags.table,
      organisationId === undefined ? 'default' : String(organisationId),
    );
    return { store, marker };
  }
  const path = flags.state ?? DEFAULT_STATE_FILE;
  return {
    store: storeFor({ organisationId, state: { kind: 'file', path } }),
    marker: new FileDigestMarker(path) as DigestMarker,
  };
};

/** The board page of a state, as HTML. */
export const boardHtml = async (
  flags: StateFlags,
  env: ReadIo['env'],
  now: number,
  refreshSeconds?: number,
) => {
  const settings = boardSettings(env, flags);
  const { store } = stateOf(flags, env);
  const model = buildBoard(await readSnapshots(store), now, settings);
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
