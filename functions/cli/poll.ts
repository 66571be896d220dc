import { DEFAULT_SOURCE } from '../core/events/catalogue.js';
import type { CycleOptions, CycleReport } from '../cycle/cycle.js';
import { runCycle } from '../cycle/cycle.js';
import { OrganisationMismatchError } from '../cycle/errors.js';
import type { Logger } from '../cycle/ports.js';
import type { Lease } from '../cycle/records.js';
import type { SignalFlags } from '../runtime/config.js';
import {
  ConfigError,
  positiveInteger,
  requireCredentials,
  signalSettings,
  uphanceSettings,
} from '../runtime/config.js';
import { buildOrganisationRuntimes, eachOrganisation, scopedLogger } from '../runtime/organisations.js';
import type { Runtime, RuntimeSettings } from '../runtime/runtime.js';
import { DEFAULT_HOST_LOCK_DIR } from '../runtime/runtime.js';
import { abandonedOnThisHost, localRunner } from '../shared/process.js';
import { sleep as pause } from '../shared/timing.js';
import { UphanceApiError, UphanceAuthError, UphanceParameterError } from '../uphance/errors.js';
import type { WebhookSettings } from './push.js';
import { startPushPath, webhookSettings } from './push.js';

export interface PollFlags extends SignalFlags {
  once?: boolean;
  webhookPort?: string;
  webhookHost?: string;
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
  // A state that belongs to another organisation than the one configured.
  if (error instanceof OrganisationMismatchError && error.kind === 'state') return 2;
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

interface PollSettings {
  runtime: RuntimeSettings;
  /** Every organisation to poll (empty: the token's own). */
  organisationIds: number[];
  cycle: Omit<CycleOptions, 'owner'>;
}

const settingsFromFlags = (flags: PollFlags, io: PollIo): PollSettings => {
  if (flags.state && flags.table) throw new ConfigError('give either --state FILE or --table NAME, not both');
  const uphance = uphanceSettings(io.env);
  const credentials = requireCredentials(uphance);
  const budgetS = seconds(flags.budget, '--budget', 240);
  const commitReserveS = 60;
  return {
    organisationIds: uphance.organisationIds,
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
      // Command lines on this host take turns on shared credentials through a lease file here.
      hostLockDir: io.env.UPHANCE_NOTIFIER_LOCK_DIR?.trim() || DEFAULT_HOST_LOCK_DIR,
    },
    cycle: {
      budgetMs: budgetS * 1000,
      deadlineMs: (budgetS + commitReserveS) * 1000,
      // Beyond the deadline, so that a live runner never loses its lease; a dead one is taken over at once.
      leaseTtlMs: (budgetS + commitReserveS + 30) * 1000,
      sweepIntervalMs: seconds(flags.sweepHours, '--sweep-hours', 24) * 3_600_000,
      emitBaseline: flags.emitBaseline ?? false,
      signals: signalSettings(io.env, flags),
    },
  };
};

export const describeHolder = (holder: Lease): string =>
  `${holder.owner} (lease ${holder.generation}) holds the lease until ${new Date(holder.expiresAt).toISOString()}`;

/** Why a run did not get its turn, for the one line a `--once` run prints before it exits 5. */
const describeHeld = (report: Pick<CycleReport, 'holder' | 'heldBy'>): string =>
  report.heldBy === 'credentials'
    ? `a run for another organisation is using the same Uphance credentials: ${describeHolder(report.holder as Lease)}`
    : `another runner is polling this state: ${describeHolder(report.holder as Lease)}`;

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

/** One organisation's cycle; returns the exit code it calls for (0, or 5 for a held lease with --once). */
const cycleOf =
  (flags: PollFlags, settings: PollSettings, logger: Logger, signalNow?: () => number) =>
  async (runtime: Runtime, organisationId: number | undefined): Promise<number> => {
    const orgLogger = organisationId === undefined ? logger : scopedLogger(logger, organisationId);
    const requestsBefore = runtime.apiStats.requests;
    const report = await runCycle(
      {
        ...runtime.deps,
        now: Date.now,
        ...(signalNow ? { signalNow } : {}),
        logger: orgLogger,
        isAbandoned: abandonedOnThisHost(),
      },
      { ...settings.cycle, ...localRunner() },
    );
    if (report.outcome === 'lease-held' && report.holder) {
      if (flags.once) {
        orgLogger.error(describeHeld(report));
        return EXIT_LEASE_HELD;
      }
      return 0;
    }
    orgLogger.info(report.baseline ? 'baseline recorded' : 'cycle done', {
      ...describe(report),
      apiRequests: runtime.apiStats.requests - requestsBefore,
    });
    return 0;
  };

/**
 * `uphance-notifier poll`: one cycle with --once, else a cycle every --interval seconds; each cycle polls
 * each organisation in turn (one failing never stops the others). With --webhook-port, webhooks queue
 * targeted checks that run between cycles, in this same process (so a check and a cycle never overlap
 * here; the lease keeps them apart from other runners). Returns the exit code.
 */
export const runPoll = async (flags: PollFlags, io: PollIo): Promise<number> => {
  const { logger } = io;
  let settings: PollSettings;
  let intervalMs: number;
  let webhook: WebhookSettings | undefined;
  try {
    settings = settingsFromFlags(flags, io);
    intervalMs = seconds(flags.interval, '--interval', 60) * 1000;
    webhook = webhookSettings(flags, io.env);
  } catch (error) {
    logger.error((error as Error).message);
    return exitCodeOf(error);
  }
  const { credentials, organisationId: _first, ...shared } = settings.runtime;
  const organisations = buildOrganisationRuntimes(
    shared,
    settings.organisationIds,
    () => credentials,
    logger,
  );
  const sleep = io.sleep ?? pause;
  const runOne = cycleOf(flags, settings, logger, io.now);
  const push = webhook
    ? await startPushPath(webhook, organisations, settings, { logger, signal: io.signal })
    : undefined;
  try {
    for (;;) {
      const started = Date.now();
      const outcomes = await eachOrganisation(organisations, runOne);
      await io.afterCycle?.();
      const codes = outcomes.map((o) => (o.ok ? o.value : exitCodeOf(o.error)));
      for (const outcome of outcomes) {
        if (outcome.ok) continue;
        const prefix = outcome.organisationId === undefined ? '' : `organisation ${outcome.organisationId}: `;
        logger.error(`${prefix}${outcome.error.message}`);
      }
      if (flags.once) return codes.find((c) => c !== 0) ?? 0;
      // Configuration and credentials do not fix themselves: stop when no organisation can go on.
      if (codes.every((c) => c === 2 || c === 3)) return codes[0] ?? 1;
      if (io.signal?.aborted) return 0;
      if (push) await push.idleUntil(started + intervalMs);
      else await sleep(intervalMs, io.signal);
      if (io.signal?.aborted) return 0;
    }
  } finally {
    await push?.close();
  }
};
