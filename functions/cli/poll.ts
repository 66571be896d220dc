import { hostname } from 'node:os';
import type { SignalFlags } from '../config.js';
import {
  ConfigError,
  positiveInteger,
  requireCredentials,
  signalSettings,
  uphanceSettings,
} from '../config.js';
import { DEFAULT_SOURCE } from '../core/events/catalogue.js';
import type { CycleOptions, CycleReport } from '../cycle/cycle.js';
import { runCycle } from '../cycle/cycle.js';
import type { Logger } from '../cycle/ports.js';
import { UphanceApiError, UphanceAuthError, UphanceParameterError } from '../uphance/errors.js';
import type { RuntimeSettings } from '../wiring.js';
import { buildRuntime } from '../wiring.js';

export interface PollFlags extends SignalFlags {
  once?: boolean;
  state?: string;
  table?: string;
  eventBus?: string;
  interval?: string;
  source?: string;
  emitBaseline?: boolean;
  budget?: string;
  sweepHours?: string;
  json?: boolean;
  pretty?: boolean;
}

export interface PollIo {
  env: Record<string, string | undefined>;
  stdout: (line: string) => void;
  logger: Logger;
  isTty: boolean;
  /** Aborted on SIGINT/SIGTERM: continuous polling stops after the current cycle. */
  signal?: AbortSignal;
  sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
  /** The cycle's clock (default Date.now); the simulator's `npm start` passes a faster one. */
  now?: () => number;
}

export const DEFAULT_STATE_FILE = '.state/uphance-notifier.json';

/** Exit statuses: 0 done, 2 bad configuration, 3 credentials rejected, 4 API unreachable, 1 anything else. */
export const exitCodeOf = (error: unknown): number => {
  if (error instanceof ConfigError || error instanceof UphanceParameterError) return 2;
  if (error instanceof UphanceAuthError) return 3;
  if (error instanceof UphanceApiError) return 4;
  return 1;
};

const seconds = (value: string | undefined, flag: string, fallback: number): number => {
  if (value === undefined) return fallback;
  if (!/^\d+(\.\d+)?$/.test(value) || Number(value) <= 0) {
    throw new ConfigError(`${flag} must be a positive number of seconds, got "${value}"`);
  }
  return Number(value);
};

export interface PollSettings {
  runtime: RuntimeSettings;
  cycle: Omit<CycleOptions, 'owner'>;
}

export const settingsFromFlags = (flags: PollFlags, io: PollIo): PollSettings => {
  if (flags.state && flags.table) throw new ConfigError('give either --state FILE or --table NAME, not both');
  const uphance = uphanceSettings(io.env);
  const credentials = requireCredentials(uphance);
  const budgetS = seconds(flags.budget, '--budget', 240);
  return {
    runtime: {
      apiUrl: uphance.apiUrl,
      credentials,
      organisationId: uphance.organisationId,
      state: flags.table
        ? { kind: 'dynamodb', tableName: flags.table }
        : { kind: 'file', path: flags.state ?? DEFAULT_STATE_FILE },
      sink: flags.eventBus
        ? { kind: 'eventbridge', busName: flags.eventBus }
        : { kind: 'stdout', pretty: flags.pretty ?? (!flags.json && io.isTty), write: io.stdout },
      source: flags.source ?? io.env.EVENT_SOURCE ?? DEFAULT_SOURCE,
      requestTimeoutMs: positiveInteger(io.env, 'UPHANCE_TIMEOUT_MS', 30_000),
    },
    cycle: {
      budgetMs: budgetS * 1000,
      leaseTtlMs: (budgetS + 120) * 1000,
      sweepIntervalMs: seconds(flags.sweepHours, '--sweep-hours', 24) * 3_600_000,
      emitBaseline: flags.emitBaseline ?? false,
      signals: signalSettings(io.env, flags),
    },
  };
};

const describe = (report: CycleReport): Record<string, unknown> => ({
  outcome: report.outcome,
  baseline: report.baseline,
  sweep: report.sweep,
  scanned: report.ordersScanned,
  events: report.events,
  written: report.snapshotsWritten,
  republished: report.republished,
  malformed: report.malformed,
  lookups: report.lookups,
  ms: report.durationMs,
});

/** `uphance-notifier poll`: one cycle with --once, else a cycle every --interval seconds. Returns the exit code. */
export const runPoll = async (flags: PollFlags, io: PollIo): Promise<number> => {
  const { logger } = io;
  let settings: PollSettings;
  let intervalMs: number;
  try {
    settings = settingsFromFlags(flags, io);
    intervalMs = seconds(flags.interval, '--interval', 60) * 1000;
  } catch (error) {
    logger.error((error as Error).message);
    return exitCodeOf(error);
  }
  const runtime = buildRuntime(settings.runtime, logger);
  const owner = `${hostname()}:${process.pid}`;
  const sleep =
    io.sleep ??
    ((ms: number, signal?: AbortSignal) =>
      new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, ms);
        signal?.addEventListener('abort', () => {
          clearTimeout(timer);
          resolve();
        });
      }));
  for (;;) {
    try {
      const requestsBefore = runtime.apiStats.requests;
      const wallStart = Date.now();
      const report = await runCycle(
        { ...runtime.deps, now: io.now ?? Date.now, logger },
        { ...settings.cycle, owner },
      );
      logger.info(report.baseline ? 'baseline recorded' : 'cycle done', {
        ...describe(report),
        // Wall time, also when the cycle runs on the simulator's faster clock.
        ms: Date.now() - wallStart,
        apiRequests: runtime.apiStats.requests - requestsBefore,
      });
    } catch (error) {
      const code = exitCodeOf(error);
      logger.error(`${(error as Error).message}`);
      // Configuration and credentials do not fix themselves: stop. Anything else: try again next interval.
      if (flags.once || code === 2 || code === 3) return code;
    }
    if (flags.once || io.signal?.aborted) return 0;
    await sleep(intervalMs, io.signal);
    if (io.signal?.aborted) return 0;
  }
};
