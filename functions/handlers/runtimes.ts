import { getSecret } from '@aws-lambda-powertools/parameters/secrets';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { credentialsForOrganisation } from '../config.js';
import type { Logger } from '../cycle/ports.js';
import type { OrganisationRuntime } from '../organisations.js';
import { buildOrganisationRuntimes } from '../organisations.js';
import type { LambdaConfig } from './lambda-config.js';

/**
 * The organisations' runtimes for a Lambda (poll and check functions), from the credentials secret:
 * shared credentials or one entry per organisation. Reused across warm invocations (OAuth tokens are kept
 * until they need refreshing) and rebuilt when the secret's value changes (Powertools caches it 5 minutes).
 */
export const lambdaRuntimes = (
  logger: Logger,
  clients: { dynamodb: DynamoDBClient; eventbridge: EventBridgeClient },
) => {
  let cached: { key: string; organisations: OrganisationRuntime[] } | undefined;
  return async (config: LambdaConfig): Promise<OrganisationRuntime[]> => {
    const secret = await getSecret(config.secretId, { maxAge: 300 });
    const key = typeof secret === 'string' ? secret : JSON.stringify(secret);
    if (cached?.key === key) return cached.organisations;
    const organisations = buildOrganisationRuntimes(
      {
        apiUrl: config.apiUrl,
        state: { kind: 'dynamodb', tableName: config.tableName },
        sink: { kind: 'eventbridge', busName: config.eventBusName },
        source: config.source,
        requestTimeoutMs: config.requestTimeoutMs,
      },
      config.organisationIds,
      (organisationId) => credentialsForOrganisation(secret, 'UPHANCE_SECRET_ARN', organisationId),
      logger,
      clients,
    );
    cached = { key, organisations };
    return organisations;
  };
};
