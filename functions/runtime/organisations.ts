import type { Logger } from '../cycle/ports.js';
import type { Credentials } from '../uphance/auth.js';
import type { Clients, Runtime, RuntimeSettings } from './runtime.js';
import { buildRuntime } from './runtime.js';

/** One organisation's runtime, or why it has none (its credentials are missing): it fails alone. */
export interface OrganisationRuntime {
  /** undefined: no organisation configured (the token's own, state keys under "default"). */
  organisationId: number | undefined;
  runtime?: Runtime;
  error?: Error;
}

/**
 * One runtime per organisation: its own Uphance client (its own organisation selection), its own state
 * (found where it is: state-location.ts) and a sink that stamps `detail.organisationId`.
 */
export const buildOrganisationRuntimes = (
  settings: Omit<RuntimeSettings, 'organisationId' | 'credentials' | 'several'>,
  organisationIds: number[],
  credentialsOf: (organisationId: number | undefined) => Credentials,
  logger: Logger,
  clients?: Clients,
  /** Whether other organisations share the state's place (default: more than one given here). */
  several = organisationIds.length > 1,
): OrganisationRuntime[] => {
  const ids: Array<number | undefined> = organisationIds.length > 0 ? organisationIds : [undefined];
  return ids.map((organisationId) => {
    try {
      const credentials = credentialsOf(organisationId);
      const runtime = buildRuntime(
        { ...settings, credentials, organisationId, several },
        organisationId === undefined ? logger : scopedLogger(logger, organisationId),
        clients,
      );
      return { organisationId, runtime };
    } catch (error) {
      return { organisationId, error: error as Error };
    }
  });
};

/** A logger whose every line names the organisation. */
export const scopedLogger = (logger: Logger, organisationId: number): Logger => ({
  debug: (message, fields) => logger.debug(message, { organisationId, ...fields }),
  info: (message, fields) => logger.info(message, { organisationId, ...fields }),
  warn: (message, fields) => logger.warn(message, { organisationId, ...fields }),
  error: (message, fields) => logger.error(message, { organisationId, ...fields }),
});

export type OrganisationOutcome<T> =
  | { organisationId: number | undefined; ok: true; value: T }
  | { organisationId: number | undefined; ok: false; error: Error };

/**
 * Runs `work` for each organisation in turn, never two at once (one token may serve several: each run
 * selects its organisation first). One organisation's failure (rejected credentials, an outage, a bad
 * secret entry) is returned as its outcome and never stops the others.
 */
export const eachOrganisation = async <T>(
  organisations: OrganisationRuntime[],
  work: (runtime: Runtime, organisationId: number | undefined, index: number) => Promise<T>,
): Promise<Array<OrganisationOutcome<T>>> => {
  const outcomes: Array<OrganisationOutcome<T>> = [];
  for (const [index, org] of organisations.entries()) {
    if (!org.runtime) {
      outcomes.push({
        organisationId: org.organisationId,
        ok: false,
        error: org.error ?? new Error('no runtime'),
      });
      continue;
    }
    org.runtime.client.reselectOrganisation();
    try {
      outcomes.push({
        organisationId: org.organisationId,
        ok: true,
        value: await work(org.runtime, org.organisationId, index),
      });
    } catch (error) {
      outcomes.push({ organisationId: org.organisationId, ok: false, error: error as Error });
    }
  }
  return outcomes;
};
