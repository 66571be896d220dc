import './quiet-warnings.js';
import { mkdirSync, rmSync } from 'node:fs';
import { vendorExampleOrders } from '../../simulator/fixtures.js';
import { generateOrders } from '../../simulator/generator.js';
import { LiveActivity } from '../../simulator/live.js';
import { startSimulator } from '../../simulator/server.js';
import { boardPort, DEFAULT_BOARD_PORT, startLiveBoard } from './live-board.js';
import { stderrLogger } from './logger.js';
import { runPoll } from './poll.js';

/**
 * `npm start`, the main job on an embedded default. With UPHANCE_TOKEN (or UPHANCE_EMAIL and
 * UPHANCE_PASSWORD) set it polls the real API every minute with a local state file. Without credentials
 * it starts the simulator with orders that move on their own and polls it every few seconds.
 */
const env = { ...process.env };
const logger = stderrLogger();
const abort = new AbortController();
for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => abort.abort());
const hasCredentials = Boolean(env.UPHANCE_TOKEN || (env.UPHANCE_EMAIL && env.UPHANCE_PASSWORD));
const io = {
  env,
  stdout: (line: string) => process.stdout.write(`${line}\n`),
  logger,
  isTty: process.stdout.isTTY === true,
  signal: abort.signal,
};
/** The live board of the state being polled: BOARD_PORT, else the default port or a free one. */
const serveBoard = async (statePath: string, intervalS: number) => {
  const board = await startLiveBoard(
    { state: statePath },
    {
      env,
      logger,
      port: env.BOARD_PORT === undefined ? DEFAULT_BOARD_PORT : boardPort(env.BOARD_PORT),
      intervalS,
      anyPortIfTaken: env.BOARD_PORT === undefined,
    },
  );
  return board;
};

if (hasCredentials) {
  logger.info(
    `polling ${env.UPHANCE_API_URL ?? 'https://api.uphance.com'} every 60 s; state in .state/uphance-notifier.json`,
  );
  const board = await serveBoard('.state/uphance-notifier.json', 60);
  process.exitCode = await runPoll(
    { state: '.state/uphance-notifier.json', interval: '60' },
    { ...io, afterCycle: board.refresh },
  );
  await board.close();
} else {
  const sim = await startSimulator({
    orders: [...vendorExampleOrders(), ...generateOrders({ count: 150, seed: 42, now: Date.now() })],
  });
  const live = new LiveActivity(sim.state);
  const ticker = setInterval(() => live.tick(4), 2_000);
  mkdirSync('.state', { recursive: true });
  // A fresh simulator needs a fresh state: the previous run's is removed.
  const statePath = '.state/simulator.json';
  rmSync(statePath, { force: true });
  rmSync(`${statePath}.lease`, { force: true });
  logger.info(
    `no UPHANCE_TOKEN: polling the built-in Uphance simulator at ${sim.url} every 3 s (Ctrl-C to stop)`,
  );
  logger.info('the first cycle records a silent baseline; events follow as the simulated factory works');
  env.UPHANCE_API_URL = sim.url;
  env.UPHANCE_TOKEN = 'sim-token';
  delete env.UPHANCE_EMAIL;
  delete env.UPHANCE_PASSWORD;
  const board = await serveBoard(statePath, 3);
  process.exitCode = await runPoll(
    { state: statePath, interval: '3', sweepHours: '0.01' },
    { ...io, afterCycle: board.refresh },
  );
  await board.close();
  clearInterval(ticker);
  await sim.close();
}
