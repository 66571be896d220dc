import type { DynamoRegistry } from '../adapters/dynamodb-registry.js';
import type { PolledOrganisation } from '../fanout/plan.js';
import { organisationsToPoll } from '../fanout/plan.js';

/**
 * The organisations of this deployment now: those it names (UPHANCE_ORGANISATION_ID, the seed) and those
 * registered as data (`uphance-notifier organisations add`), less those removed, each with the
 * credentials it uses (fanout/plan.ts); the credentials' own (organisationId null) when neither names
 * any. The dispatcher polls them, the check function checks them, the digest function digests them. Also
 * the seed as the registry last recorded it (the dispatcher keeps it up to date).
 */
export const deploymentOrganisations = async (
  registry: Pick<DynamoRegistry, 'read'>,
  seed: number[],
): Promise<{ organisations: PolledOrganisation[]; recordedSeed: number[] | undefined }> => {
  const { entries, seed: recordedSeed } = await registry.read();
  return { organisations: organisationsToPoll(seed, entries), recordedSeed };
};
