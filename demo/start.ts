import '../functions/cli/quiet-warnings.js';
import { randomBytes } from 'node:crypto';
import { mkdirSync, rmSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { boardPort, DEFAULT_BOARD_PORT, startLiveBoard } from '../functions/cli/live-board.js';
import { stderrLogger } from '../functions/cli/logger.js';
import { runPoll } from '../functions/cli/poll.js';
import { freeLoopbackPort } from '../functions/shared/net.js';
import { DEMO_SPEED, fasterClock } from '../simulator/clock.js';
import { demoOrders } from '../simulator/demo.js';
import { LiveActivity } from '../simulator/live.js';
import { startSimulator } from '../simulator/server.js';
import { postWebhook, receivingTicketWebhook } from '../simulator/webhooks.js';

/**
 * `npm start`, the main job on an embedded default. With UPHANCE_TOKEN (or UPHANCE_EMAIL and
 * UPHANCE_PASSWORD) set it polls the real API every minute with a local state file. Without credentials
 * it starts the simulator with orders that move on their own and polls it every few seconds, on a clock
 * that runs a day every 15 seconds so that due dates and stalled stages show at once.
 */

const env = { ...process.env };
const logger = stderrLogger();
/** `npm start -- --board-port N`: the live board's port (0: any free one); else BOARD_PORT, else 8787. */
const boardPortFlag = (() => {
  try {
    const { values } = parseArgs({ options: { 'board-port': { type: 'string' } }, strict: true });
    return values['board-port'] ?? env.BOARD_PORT;
  } catch (error) {
    logger.error(`npm start: ${(error as Error).message} (it takes --board-port <port> only)`);
    process.exit(2);
  }
})();
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
/** The live board of the state being polled: --board-port or BOARD_PORT, else the default port or a free one. */
const serveBoard = async (statePath: string, intervalS: number) => {
  const board = await startLiveBoard(
    { state: statePath },
    {
      env,
      logger,
      port: boardPortFlag === undefined ? DEFAULT_BOARD_PORT : boardPort(boardPortFlag),
      intervalS,
      anyPortIfTaken: boardPortFlag === undefined,
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
  // The simulator and the cycle share one faster clock: stage times, due dates and "today" agree.
  const clock = fasterClock(DEMO_SPEED);
  const sim = await startSimulator({ orders: demoOrders(clock()), now: clock });
  // The push path: the simulated Uphance posts a receiving-ticket webhook to the local listener whenever
  // a delivery arrives, and the order is checked at once instead of at the next cycle.
  const secret = randomBytes(24).toString('hex');
  const webhookPort = await freeLoopbackPort();
  const webhookUrl = `http://127.0.0.1:${webhookPort}/webhooks/uphance/${secret}`;
  const live = new LiveActivity(sim.state, 7, clock, (order) =>
    postWebhook(webhookUrl, receivingTicketWebhook(order), (error) =>
      logger.warn(`the simulator could not deliver a webhook: ${error.message}`),
    ),
  );
  const ticker = setInterval(() => live.tick(4), 2_000);
  mkdirSync('.state', { recursive: true });
  // A fresh simulator needs a fresh state: the previous run's is removed.
  const statePath = '.state/simulator.json';
  rmSync(statePath, { force: true });
  rmSync(`${statePath}.lease`, { force: true });
  logger.info(
    `no UPHANCE_TOKEN: polling the built-in Uphance simulator at ${sim.url} every 10 s (Ctrl-C to stop)`,
  );
  logger.info('the first cycle records a silent baseline; events follow as the simulated factory works');
  logger.info(
    'simulated time: one day every 15 s (due soon, overdue and stalled stages show within a minute or two)',
  );
  logger.info(
    'deliveries are pushed: the simulator posts receiving-ticket webhooks and the order is checked at once',
  );
  env.UPHANCE_API_URL = sim.url;
  env.UPHANCE_TOKEN = 'sim-token';
  delete env.UPHANCE_EMAIL;
  delete env.UPHANCE_PASSWORD;
  env.UPHANCE_WEBHOOK_SECRET = secret;
  // The budget, the lease and the sweep period keep real time; only the production signals read the
  // simulator's faster calendar (io.now).
  const board = await serveBoard(statePath, 5);
  process.exitCode = await runPoll(
    { state: statePath, interval: '5', sweepHours: '0.01', budget: '20', webhookPort: String(webhookPort) },
    { ...io, now: clock, afterCycle: board.refresh },
  );
  await board.close();
  clearInterval(ticker);
  await sim.close();
}
