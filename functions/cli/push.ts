import type { CycleOptions } from '../cycle/cycle.js';
import type { Logger } from '../cycle/ports.js';
import type { CheckReport } from '../cycle/targeted.js';
import { runCheck } from '../cycle/targeted.js';
import { ConfigError } from '../runtime/config.js';
import type { OrganisationRuntime } from '../runtime/organisations.js';
import { eachOrganisation, scopedLogger } from '../runtime/organisations.js';
import { abandonedOnThisHost, localRunner } from '../shared/process.js';
import { sleep as pause } from '../shared/timing.js';
import { numbersByOrganisation } from '../webhook/assign.js';
import type { CheckQueueOptions } from '../webhook/check-queue.js';
import { CheckQueue } from '../webhook/check-queue.js';
import type { CheckRequest } from '../webhook/intake.js';
import { webhookSecretProblem } from '../webhook/intake.js';
import type { WebhookListener } from './webhook-listener.js';
import { startWebhookListener } from './webhook-listener.js';

export interface WebhookSettings {
  port: number;
  host: string;
  secret: string;
}

/** `--webhook-port PORT [--webhook-host HOST]` with UPHANCE_WEBHOOK_SECRET; undefined without the port. */
export const webhookSettings = (
  flags: { webhookPort?: string; webhookHost?: string; once?: boolean },
  env: Record<string, string | undefined>,
): WebhookSettings | undefined => {
  if (flags.webhookPort === undefined) {
    if (flags.webhookHost !== undefined) throw new ConfigError('--webhook-host needs --webhook-port');
    return undefined;
  }
  if (flags.once) throw new ConfigError('--webhook-port listens between cycles: it cannot go with --once');
  if (!/^\d+$/.test(flags.webhookPort) || Number(flags.webhookPort) > 65_535) {
    throw new ConfigError(
      `--webhook-port must be a port number (0-65535), got "${flags.webhookPort.slice(0, 20)}"`,
    );
  }
  const secret = env.UPHANCE_WEBHOOK_SECRET;
  const problem = webhookSecretProblem(secret);
  // The message names the setting, never its value.
  if (problem) throw new ConfigError(`UPHANCE_WEBHOOK_SECRET ${problem} (required with --webhook-port)`);
  return {
    port: Number(flags.webhookPort),
    host: flags.webhookHost ?? '127.0.0.1',
    secret: secret as string,
  };
};

/** How long a webhook's check waits for credentials a run of another organisation uses (then retried). */
const CHECK_CREDENTIALS_WAIT_MS = 20_000;

export interface PushContext {
  logger: Logger;
  signal?: AbortSignal | undefined;
  now?: () => number;
  sleep?: (ms: number, signal?: AbortSignal) => Promise<unknown>;
  queue?: CheckQueueOptions;
}

export interface PushPath {
  listener: WebhookListener;
  queue: CheckQueue;
  /** Runs the checks that fall due until `untilMs` (the next cycle), waking as soon as a webhook queues one. */
  idleUntil(untilMs: number): Promise<void>;
  /** Runs whatever is due now (tests). */
  drain(): Promise<CheckReport[]>;
  close(): Promise<void>;
}

/**
 * The command line's push path: the webhook listener queues order numbers; between scheduled cycles the
 * due ones are checked, each organisation in turn, through `runCheck` (same lease, same commit path).
 */
export const startPushPath = async (
  webhook: WebhookSettings,
  organisations: OrganisationRuntime[],
  settings: { cycle: Omit<CycleOptions, 'owner'>; organisationIds: number[] },
  context: PushContext,
): Promise<PushPath> => {
  const now = context.now ?? Date.now;
  const sleep = context.sleep ?? pause;
  const queue = new CheckQueue(context.queue);
  let wake = new AbortController();
  const listener = await startWebhookListener({
    port: webhook.port,
    host: webhook.host,
    secret: webhook.secret,
    organisationIds: settings.organisationIds,
    queue,
    logger: context.logger,
    now,
    onQueued: () => wake.abort(),
  });
  context.logger.info(`listening for Uphance webhooks on ${listener.url} (POST /webhooks/uphance/<secret>)`);

  const check = async (due: CheckRequest[]): Promise<CheckReport[]> => {
    const byOrg = numbersByOrganisation(
      due,
      organisations.map((o) => o.organisationId),
    );
    const reports: CheckReport[] = [];
    const targets = organisations.filter((o) => byOrg.has(o.organisationId));
    const outcomes = await eachOrganisation(targets, async (runtime, organisationId) => {
      const numbers = byOrg.get(organisationId) ?? [];
      const logger =
        organisationId === undefined ? context.logger : scopedLogger(context.logger, organisationId);
      const report = await runCheck(
        { ...runtime.deps, now, logger, isAbandoned: abandonedOnThisHost() },
        // A check gives way soon to a run of another organisation on the same credentials: it is retried.
        { ...settings.cycle, ...localRunner(), credentialsWaitMs: CHECK_CREDENTIALS_WAIT_MS },
        numbers,
      );
      if (report.outcome === 'lease-held' || report.unchecked.length > 0) {
        const again = report.noBaseline ? [] : report.unchecked;
        queue.retry(
          again.map((number) => (organisationId === undefined ? { number } : { number, organisationId })),
          now(),
        );
      }
      logger.info('webhook check done', {
        outcome: report.outcome,
        checked: report.checked.length,
        notFound: report.notFound.length,
        events: report.events,
        ms: report.durationMs,
      });
      reports.push(report);
      return report;
    });
    for (const outcome of outcomes) {
      if (!outcome.ok) context.logger.error(`webhook check failed: ${outcome.error.message}`);
    }
    return reports;
  };

  return {
    listener,
    queue,
    drain: () => check(queue.take(now())),
    async idleUntil(untilMs) {
      for (;;) {
        if (context.signal?.aborted) return;
        const due = queue.take(now());
        if (due.length > 0) {
          await check(due);
          continue;
        }
        const at = now();
        if (at >= untilMs) return;
        wake = new AbortController();
        const wakeAt = Math.min(untilMs, queue.nextDueAt() ?? untilMs);
        const signal = context.signal ? AbortSignal.any([context.signal, wake.signal]) : wake.signal;
        await sleep(Math.max(0, wakeAt - at), signal);
      }
    },
    close: () => listener.close(),
  };
};
