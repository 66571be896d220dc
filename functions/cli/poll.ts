import { hostname } from 'node:os';
import { ConfigError, positiveInteger, requireCredentials, uphanceSettings } from '../config.js';
import { DEFAULT_SOURCE } from '../core/events/catalogue.js';
import type { CycleOptions, CycleReport } from '../cycle/cycle.js';
import { runCycle } from '../cycle/cycle.js';
import type { Lease, Logger } from '../cycle/ports.js';
import { sleep as pause } from '../shared/timing.js';
import { UphanceApiError, UphanceAuthError, UphanceParameterError } from '../uphance/errors.js';
import type { RuntimeSettings } from '../wiring.js';
import { buildRuntime } from '../wiring.js';

export interface PollFlags {
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
  /** Called after each cycle, whatever its outcome (the live board re-renders). */
  afterCycle?: () => Promise<void>;
}

export const DEFAULT_STATE_FILE = '.state/uphance-notifier.json';

/**
 * Exit statuses: 0 done, 2 bad configuration, 3 credentials rejected, 4 API unreachable, 5 (with --once)
 * another runner holds the lease, 1 anything else.
 */
export const EXIT_LEASE_HELD = 5;

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
  const commitReserveS = 60;
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
      deadlineMs: (budgetS + commitReserveS) * 1000,
      // Beyond the deadline, so that a live runner never loses its lease; a dead one is taken over at once.
      leaseTtlMs: (budgetS + commitReserveS + 30) * 1000,
      sweepIntervalMs: seconds(flags.sweepHours, '--sweep-hours', 24) * 3_600_000,
      emitBaseline: flags.emitBaseline ?? false,
    },
  };
};

/** Whether a process of this host with this pid is running (signal 0 tests for it without sending). */
export const processRuns = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
};

/** A lease left by a process of this host that no longer runs (killed, crashed) is taken over at once. */
export const abandonedOnThisHost =
  (host: string, pid: number) =>
  (holder: Lease): boolean =>
    holder.host === host && holder.pid !== undefined && holder.pid !== pid && !processRuns(holder.pid);

export const describeHolder = (holder: Lease): string =>
  `${holder.owner} (lease ${holder.generation}) holds the lease until ${new Date(holder.expiresAt).toISOString()}`;

const describe = (report: CycleReport): Record<string, unknown> => ({
  outcome: report.outcome,
  baseline: report.baseline,
  sweep: report.sweep,
  scanned: report.ordersScanned,
  events: report.events,
  written: report.snapshotsWritten,
  republished: report.republished,
  setAside: report.setAside,
  oversized: report.oversized,
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
  const host = hostname();
  const owner = `${host}:${process.pid}`;
  const sleep = io.sleep ?? pause;
  for (;;) {
    try {
      const requestsBefore = runtime.apiStats.requests;
      const report = await runCycle(
        { ...runtime.deps, now: Date.now, logger, isAbandoned: abandonedOnThisHost(host, process.pid) },
        { ...settings.cycle, owner, host, pid: process.pid },
      );
      if (report.outcome === 'lease-held' && report.holder) {
        if (flags.once) {
          logger.error(`another runner is polling this state: ${describeHolder(report.holder)}`);
          return EXIT_LEASE_HELD;
        }
      } else {
        logger.info(report.baseline ? 'baseline recorded' : 'cycle done', {
          ...describe(report),
          apiRequests: runtime.apiStats.requests - requestsBefore,
        });
      }
    } catch (error) {
      const code = exitCodeOf(error);
      logger.error(`${(error as Error).message}`);
      // Configuration and credentials do not fix themselves: stop. Anything else: try again next interval.
      if (flags.once || code === 2 || code === 3) return code;
    }
    await io.afterCycle?.();
    if (flags.once || io.signal?.aborted) return 0;
    await sleep(intervalMs, io.signal);
    if (io.signal?.aborted) return 0;
  }
};
