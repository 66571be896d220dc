import { DEFAULT_SOURCE } from '../core/events/catalogue.js';
import type { Logger } from '../cycle/ports.js';
import { ConfigError, uphanceSettings } from '../runtime/config.js';
import { scopedLogger } from '../runtime/organisations.js';
import type { RuntimeSettings } from '../runtime/runtime.js';
import { sinkFor, storeFor } from '../runtime/runtime.js';
import { abandonedOnThisHost, localRunner } from '../shared/process.js';
import type { PollIo } from './poll.js';
import { DEFAULT_STATE_FILE, describeHolder, EXIT_LEASE_HELD, exitCodeOf } from './poll.js';

export interface ResendFlags {
  state?: string;
  table?: string;
  eventBus?: string;
  source?: string;
  json?: boolean;
  pretty?: boolean;
}

const LEASE_MS = 5 * 60_000;

/**
 * `uphance-notifier resend`: publishes the events the bus refused for good and that the cycle set aside,
 * under the lease (so never alongside a cycle), and removes those accepted now. Returns the exit code:
 * 0 when none is left aside, 1 when some were refused again (they stay aside), 5 when the lease is held.
 */
export const runResend = async (
  flags: ResendFlags,
  io: Pick<PollIo, 'env' | 'stdout' | 'isTty'> & { logger: Logger },
) => {
  const { logger } = io;
  try {
    if (flags.state && flags.table)
      throw new ConfigError('give either --state FILE or --table NAME, not both');
    const organisationIds = uphanceSettings(io.env).organisationIds;
    const state = flags.table
      ? ({ kind: 'dynamodb', tableName: flags.table } as const)
      : ({ kind: 'file', path: flags.state ?? DEFAULT_STATE_FILE } as const);
    // Each organisation's set-aside events, in turn (with several, each has its own state).
    let code = 0;
    for (const organisationId of organisationIds.length > 0 ? organisationIds : [undefined]) {
      const one = await resendOne(flags, io, {
        organisationId,
        several: organisationIds.length > 1,
        state,
      });
      code = Math.max(code, one);
    }
    return code;
  } catch (error) {
    logger.error((error as Error).message);
    return exitCodeOf(error);
  }
};

const resendOne = async (
  flags: ResendFlags,
  io: Pick<PollIo, 'env' | 'stdout' | 'isTty'> & { logger: Logger },
  scope: Pick<RuntimeSettings, 'organisationId' | 'state' | 'several'>,
): Promise<number> => {
  const logger =
    scope.organisationId === undefined ? io.logger : scopedLogger(io.logger, scope.organisationId);
  try {
    const settings = {
      ...scope,
      sink: flags.eventBus
        ? ({ kind: 'eventbridge', busName: flags.eventBus } as const)
        : ({ kind: 'stdout', pretty: flags.pretty ?? (!flags.json && io.isTty), write: io.stdout } as const),
      source: flags.source ?? io.env.EVENT_SOURCE ?? DEFAULT_SOURCE,
    };
    const store = storeFor(settings);
    const sink = sinkFor(settings);
    const claim = { ...localRunner(), nowMs: Date.now(), ttlMs: LEASE_MS };
    let outcome = await store.acquireLease(claim);
    if (outcome.kind === 'held' && abandonedOnThisHost()(outcome.holder)) {
      outcome = await store.takeOverLease(claim, outcome.holder);
    }
    if (outcome.kind === 'held') {
      logger.error(`another runner is polling this state: ${describeHolder(outcome.holder)}`);
      return EXIT_LEASE_HELD;
    }
    const fence = { lease: outcome.lease };
    try {
      const aside = await store.listSetAside();
      if (aside.length === 0) {
        logger.info('no event is set aside');
        return 0;
      }
      const { rejected } = await sink.publish(aside.map((a) => a.event));
      const refused = new Set(rejected.map((r) => r.event.detail.eventId));
      const sent = aside.map((a) => a.event.detail.eventId).filter((id) => !refused.has(id));
      await store.removeSetAside(fence, sent);
      for (const r of rejected) {
        logger.error('the bus refused the event again; it stays set aside', {
          eventId: r.event.detail.eventId,
          reason: r.reason,
        });
      }
      logger.info('resent the set-aside events', { sent: sent.length, stillAside: rejected.length });
      return rejected.length === 0 ? 0 : 1;
    } finally {
      await store.releaseLease(outcome.lease);
    }
  } catch (error) {
    logger.error((error as Error).message);
    return exitCodeOf(error);
  }
};
