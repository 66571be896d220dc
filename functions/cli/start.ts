import './quiet-warnings.js';
import { mkdirSync, rmSync } from 'node:fs';
import { DEMO_SPEED, fasterClock } from '../../simulator/clock.js';
import { demoOrders } from '../../simulator/demo.js';
import { LiveActivity } from '../../simulator/live.js';
import { startSimulator } from '../../simulator/server.js';
import { stderrLogger } from './logger.js';
import { runPoll } from './poll.js';

/**
 * `npm start`, the main job on an embedded default. With UPHANCE_TOKEN (or UPHANCE_EMAIL and
 * UPHANCE_PASSWORD) set it polls the real API every minute with a local state file. Without credentials
 * it starts the simulator with orders that move on their own and polls it every few seconds, on a clock
 * that runs a day every 15 seconds so that due dates and stalled stages show at once.
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

if (hasCredentials) {
  logger.info(
    `polling ${env.UPHANCE_API_URL ?? 'https://api.uphance.com'} every 60 s; state in .state/uphance-notifier.json`,
  );
  process.exitCode = await runPoll({ state: '.state/uphance-notifier.json', interval: '60' }, io);
} else {
  // The simulator and the cycle share one faster clock: stage times, due dates and "today" agree.
  const clock = fasterClock(DEMO_SPEED);
  const sim = await startSimulator({ orders: demoOrders(clock()), now: clock });
  const live = new LiveActivity(sim.state, 7, clock);
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
  logger.info(
    'simulated time: one day every 15 s (due soon, overdue and stalled stages show within a minute or two)',
  );
  env.UPHANCE_API_URL = sim.url;
  env.UPHANCE_TOKEN = 'sim-token';
  delete env.UPHANCE_EMAIL;
  delete env.UPHANCE_PASSWORD;
  // The budget, the lease and the sweep period keep real time; only the production signals read the
  // simulator's faster calendar (io.now).
  process.exitCode = await runPoll(
    { state: statePath, interval: '3', sweepHours: '0.01', budget: '20' },
    { ...io, now: clock },
  );
  clearInterval(ticker);
  await sim.close();
}
