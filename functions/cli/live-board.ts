import type { BoardServer } from '../board/server.js';
import { startBoardServer } from '../board/server.js';
import type { Logger } from '../cycle/ports.js';
import { ConfigError } from '../runtime/config.js';
import type { StateFlags } from './board.js';
import { boardHtml } from './board.js';

/** The board's default port for `npm start` (a free one is taken when it is busy). */
export const DEFAULT_BOARD_PORT = 8787;

export const boardPort = (value: string): number => {
  if (!/^\d+$/.test(value) || Number(value) > 65_535)
    throw new ConfigError(`--board-port must be a port number (0 for any free port), got "${value}"`);
  return Number(value);
};

/**
 * Serves the board of the poller's own state at http://127.0.0.1:PORT, re-rendered after each cycle; the
 * page reloads itself about as often as the cycles run.
 */
export const startLiveBoard = async (
  flags: StateFlags,
  options: {
    env: Record<string, string | undefined>;
    logger: Logger;
    port: number;
    intervalS: number;
    anyPortIfTaken?: boolean;
  },
): Promise<BoardServer> => {
  const refreshSeconds = Math.max(5, Math.round(options.intervalS));
  const server = await startBoardServer({
    port: options.port,
    logger: options.logger,
    anyPortIfTaken: options.anyPortIfTaken,
    render: () => boardHtml(flags, options.env, Date.now(), refreshSeconds),
  });
  options.logger.info(`production board at ${server.url} (refreshed after each cycle)`);
  return server;
};
