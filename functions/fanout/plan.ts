import type { CredentialsReference, PollMessage } from './message.js';
import { deduplicationIdOf, pollMessageBody } from './message.js';

/** An organisation registered as data (`uphance-notifier organisations add`). */
export interface RegistryEntry {
  organisationId: number;
  credentials: Exclude<CredentialsReference, 'auto'>;
  /** Removed by `organisations remove`: kept as a record so that it also stops a seeded organisation. */
  removed: boolean;
  addedAt: number;
  updatedAt: number;
}

/** How the last cycle the poll worker ran for an organisation ended. */
export type RunOutcome = 'completed' | 'budget-exhausted' | 'deadline' | 'failed';

/** What the poll worker recorded of an organisation's cycles (and when the dispatcher first queued it). */
export interface RunRecord {
  organisationId: number | null;
  /** When the last cycle that ran (took its lease or failed) started: it covers every period before. */
  startedAt?: number;
  finishedAt?: number;
  outcome?: RunOutcome;
  /** The last failure's message (bounded), while failing. */
  error?: string;
  /** The end of the last cycle that completed (or stopped at its budget having committed). */
  completedAt?: number;
  /** The first failure of the current run of failures. */
  failingSince?: number;
  firstDispatchedAt?: number;
}

/** One organisation the dispatcher queues, with the credentials it uses. */
export interface PolledOrganisation {
  organisationId: number | null;
  credentials: CredentialsReference;
  /** When it was (last) added to the registry; undefined for a seeded one. */
  addedAt?: number;
}

/**
 * The organisations of a period: those the deployment names (organisationIds, the seed) and those
 * registered, less those removed (the registry wins over the seed), by id. When neither names any
 * organisation at all, the credentials' own is polled (organisationId null), as with no
 * UPHANCE_ORGANISATION_ID.
 */
export const organisationsToPoll = (seed: number[], registry: RegistryEntry[]): PolledOrganisation[] => {
  if (seed.length === 0 && registry.length === 0) return [{ organisationId: null, credentials: 'auto' }];
  const byId = new Map<number, PolledOrganisation | null>();
  for (const id of seed) byId.set(id, { organisationId: id, credentials: 'auto' });
  for (const entry of registry) {
    byId.set(
      entry.organisationId,
      entry.removed
        ? null
        : { organisationId: entry.organisationId, credentials: entry.credentials, addedAt: entry.addedAt },
    );
  }
  return [...byId.values()]
    .filter((o): o is PolledOrganisation => o !== null)
    .sort((a, b) => (a.organisationId ?? 0) - (b.organisationId ?? 0));
};

export interface QueuedMessage {
  /** Unique within a SendMessageBatch call. */
  entryId: string;
  body: string;
  groupId: string;
  deduplicationId: string;
}

/** The poll queue's messages of one period, one per organisation, in its group (see credentialsGroup). */
export const periodMessages = (
  organisations: PolledOrganisation[],
  scheduledAt: number,
  groupOf: (organisation: PolledOrganisation) => string,
): QueuedMessage[] =>
  organisations.map((organisation) => {
    const message: PollMessage = {
      v: 1,
      organisationId: organisation.organisationId,
      credentials: organisation.credentials,
      scheduledAt,
    };
    return {
      entryId: `org-${organisation.organisationId ?? 'default'}`,
      body: pollMessageBody(message),
      groupId: groupOf(organisation),
      deduplicationId: deduplicationIdOf(message),
    };
  });

/**
 * Whether a cycle of the organisation has started since the message's period began: then the message is
 * superseded (that cycle saw everything the period's would) and is dropped rather than run twice late.
 */
export const isCovered = (run: RunRecord | undefined, scheduledAt: number): boolean =>
  run?.startedAt !== undefined && run.startedAt >= scheduledAt;

/** Outcomes that count as a completed cycle for the heartbeat (a budget-cut cycle committed its part). */
export const completes = (outcome: RunOutcome): boolean =>
  outcome === 'completed' || outcome === 'budget-exhausted';

export interface Health {
  /** Organisations whose last cycle failed, with the failure. */
  failing: Array<{ organisationId: number | null; error: string; failingSince: number | null }>;
  /** Organisations without a completed cycle for longer than the heartbeat allows. */
  stale: Array<{ organisationId: number | null; lastCompletedAt: number | null }>;
  /** Organisations never queued before (the dispatcher records when it first queues them). */
  unseen: Array<number | null>;
}

export const runKey = (organisationId: number | null): string => String(organisationId ?? 'default');

/** The organisations that fail or have gone silent, from the worker's records: what the alarms count. */
export const organisationHealth = (
  organisations: PolledOrganisation[],
  runs: RunRecord[],
  nowMs: number,
  staleAfterMs: number,
): Health => {
  const byKey = new Map(runs.map((r) => [runKey(r.organisationId), r]));
  const health: Health = { failing: [], stale: [], unseen: [] };
  for (const { organisationId, addedAt } of organisations) {
    const run = byKey.get(runKey(organisationId));
    if (!run) {
      health.unseen.push(organisationId);
      continue;
    }
    if (run.outcome === 'failed')
      health.failing.push({
        organisationId,
        error: run.error ?? 'unknown error',
        failingSince: run.failingSince ?? null,
      });
    const since = Math.max(run.completedAt ?? 0, run.firstDispatchedAt ?? 0, addedAt ?? 0);
    if (since > 0 && nowMs - since > staleAfterMs)
      health.stale.push({ organisationId, lastCompletedAt: run.completedAt ?? null });
  }
  return health;
};
