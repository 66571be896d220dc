import { createHash } from 'node:crypto';
import { Logger as PowertoolsLogger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { getSecret } from '@aws-lambda-powertools/parameters/secrets';
import { Tracer } from '@aws-lambda-powertools/tracer';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import {
  type EventBridgeClient,
  EventBridgeClient as EventBridgeClientImpl,
} from '@aws-sdk/client-eventbridge';
import type { Context } from 'aws-lambda';
import { dynamoDbClient } from '../adapters/dynamodb-store.js';
import type { Logger } from '../cycle/ports.js';
import { credentialsByReference } from '../fanout/credentials.js';
import type { CredentialsReference } from '../fanout/message.js';
import { METRICS_NAMESPACE, SERVICE_NAME } from '../telemetry.js';
import { credentialsForOrganisation } from './config.js';
import type { LambdaConfig, RunRole } from './lambda-config.js';
import { functionCycleOptions, lambdaConfig } from './lambda-config.js';
import type { OrganisationRuntime } from './organisations.js';
import { buildOrganisationRuntimes, scopedLogger } from './organisations.js';
import type { Runtime } from './runtime.js';

/**
 * The organisations' runtimes for a Lambda (poll and check functions), from the credentials secret:
 * shared credentials or one entry per organisation. Reused across warm invocations (OAuth tokens are kept
 * until they need refreshing) and rebuilt when the secret's value changes (Powertools caches it 5 minutes).
 */
const lambdaRuntimes = (
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

/** Runtimes a warm poll worker keeps (one per organisation it has run, the oldest dropped first). */
const KEPT_RUNTIMES = 100;

/**
 * One organisation's runtime for the poll worker, with the credentials its registry entry names, reused
 * across warm invocations while its credentials stay the same (an OAuth token is kept until it needs
 * refreshing). The secret is cached 5 minutes; an organisation whose credentials the cached value lacks
 * (added a moment ago) makes it read the secret again once.
 */
const organisationRuntime = (
  logger: Logger,
  clients: { dynamodb: DynamoDBClient; eventbridge: EventBridgeClient },
) => {
  const kept = new Map<string, OrganisationRuntime>();
  return async (
    config: LambdaConfig,
    organisationId: number | null,
    reference: CredentialsReference,
  ): Promise<OrganisationRuntime> => {
    const credentialsOf = async (forceFetch: boolean) =>
      credentialsByReference(
        await getSecret(config.secretId, { maxAge: 300, forceFetch }),
        'UPHANCE_SECRET_ARN',
        organisationId,
        reference,
      );
    const credentials = await credentialsOf(false).catch(() => credentialsOf(true));
    const key = `${organisationId ?? 'default'}|${createHash('sha256').update(JSON.stringify(credentials)).digest('hex')}`;
    const found = kept.get(key);
    if (found) return found;
    const [built] = buildOrganisationRuntimes(
      {
        apiUrl: config.apiUrl,
        state: { kind: 'dynamodb', tableName: config.tableName },
        sink: { kind: 'eventbridge', busName: config.eventBusName },
        source: config.source,
        requestTimeoutMs: config.requestTimeoutMs,
      },
      organisationId === null ? [] : [organisationId],
      () => credentials,
      logger,
      clients,
      // Organisations are data (the registry): one worker's never knows of the others, so the table's
      // unnamed state is never taken without its orders showing whose it is.
      organisationId !== null,
    );
    const organisation = built as OrganisationRuntime;
    if (kept.size >= KEPT_RUNTIMES) kept.delete(kept.keys().next().value as string);
    kept.set(key, organisation);
    return organisation;
  };
};

/**
 * What every function that runs cycles (poll, check) sets up once per cold start: Powertools logger,
 * metrics and tracer, traced AWS clients (DynamoDB with request timeouts, so the deadline holds), the
 * configuration (checked now, reported by every invocation: an exception at import would record no
 * metric), the cycle's logger, and the organisations' runtimes.
 */
export const cycleLambda = () => {
  const logger = new PowertoolsLogger({ serviceName: SERVICE_NAME });
  const metrics = new Metrics({ namespace: METRICS_NAMESPACE, serviceName: SERVICE_NAME });
  const tracer = new Tracer({ serviceName: SERVICE_NAME });
  const dynamodb = tracer.captureAWSv3Client(dynamoDbClient());
  const eventbridge = tracer.captureAWSv3Client(new EventBridgeClientImpl({}));
  const configured: { config: LambdaConfig } | { error: Error } = (() => {
    try {
      return { config: lambdaConfig(process.env) };
    } catch (error) {
      return { error: error as Error };
    }
  })();
  const cycleLogger: Logger = {
    debug: (message, fields) => logger.debug(message, fields ?? {}),
    info: (message, fields) => logger.info(message, fields ?? {}),
    warn: (message, fields) => logger.warn(message, fields ?? {}),
    error: (message, fields) => logger.error(message, fields ?? {}),
  };
  /**
   * What one organisation's cycle or check runs with: its runtime's ports, the clock, a logger naming the
   * organisation, and the options (functionCycleOptions) for its share of the invocation's time.
   */
  const cycleArgs = (
    config: LambdaConfig,
    runtime: Runtime,
    organisationId: number | undefined,
    context: Pick<Context, 'awsRequestId' | 'getRemainingTimeInMillis'>,
    organisationsLeft: number,
    role: RunRole = 'cycle',
  ) => ({
    deps: {
      ...runtime.deps,
      now: Date.now,
      logger: organisationId === undefined ? cycleLogger : scopedLogger(cycleLogger, organisationId),
    },
    options: functionCycleOptions(
      config,
      context.awsRequestId,
      context.getRemainingTimeInMillis(),
      organisationsLeft,
      role,
    ),
  });
  return {
    logger,
    metrics,
    tracer,
    configured,
    cycleArgs,
    dynamodb,
    runtimesFor: lambdaRuntimes(cycleLogger, { dynamodb, eventbridge }),
    runtimeFor: organisationRuntime(cycleLogger, { dynamodb, eventbridge }),
  };
};
