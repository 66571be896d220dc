import { createHash } from 'node:crypto';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import type { Context } from 'aws-lambda';
import { DynamoRegistry } from '../adapters/dynamodb-registry.js';
import type { Logger } from '../cycle/ports.js';
import { credentialsByReference } from '../fanout/credentials.js';
import type { CredentialsReference } from '../fanout/message.js';
import { awsClient } from './clients.js';
import { deploymentOrganisations } from './deployment.js';
import type { LambdaConfig, RunRole } from './lambda-config.js';
import { functionCycleOptions, lambdaConfig, readAtColdStart } from './lambda-config.js';
import type { OrganisationRuntime } from './organisations.js';
import { buildOrganisationRuntimes, scopedLogger } from './organisations.js';
import { lambdaLogger, lambdaMetrics, lambdaSecrets, lambdaTracer, loggerPort } from './powertools.js';
import type { Runtime, Clients as RuntimeClients, RuntimeSettings } from './runtime.js';

/** The clients every runtime of a function shares, made once per cold start (and traced). */
type Clients = Required<RuntimeClients>;
type ReadSecret = ReturnType<typeof lambdaSecrets>;

/** What every organisation's runtime in a function shares: the table, the bus, the events' source, the API. */
const sharedSettings = (
  config: LambdaConfig,
): Omit<RuntimeSettings, 'organisationId' | 'credentials' | 'several'> => ({
  apiUrl: config.apiUrl,
  state: { kind: 'dynamodb', tableName: config.tableName },
  sink: { kind: 'eventbridge', busName: config.eventBusName },
  source: config.source,
  requestTimeoutMs: config.requestTimeoutMs,
});

/**
 * The runtimes of the deployment's organisations now (seed and registry: deploymentOrganisations), for
 * the check function, each on the credentials the secret holds for it (shared, or its own). Reused across
 * warm invocations (OAuth tokens are kept until they need refreshing) and rebuilt when the secret's value
 * (cached 5 minutes) or the organisations change.
 */
const deploymentRuntimes = (logger: Logger, clients: Clients, readSecret: ReadSecret) => {
  let cached: { key: string; organisations: OrganisationRuntime[] } | undefined;
  return async (config: LambdaConfig): Promise<OrganisationRuntime[]> => {
    const registry = new DynamoRegistry({ client: clients.dynamodb, tableName: config.tableName });
    const [secret, { organisations }] = await Promise.all([
      readSecret(config.secretId),
      deploymentOrganisations(registry, config.organisationIds),
    ]);
    const key = JSON.stringify([
      typeof secret === 'string' ? secret : JSON.stringify(secret),
      organisations.map((o) => [o.organisationId, o.credentials]),
    ]);
    if (cached?.key === key) return cached.organisations;
    const references = new Map(organisations.map((o) => [o.organisationId, o.credentials]));
    // Every organisation removed: none to check (as the dispatcher then polls none).
    const built =
      organisations.length === 0
        ? []
        : buildOrganisationRuntimes(
            sharedSettings(config),
            organisations.flatMap((o) => (o.organisationId === null ? [] : [o.organisationId])),
            (organisationId) =>
              credentialsByReference(
                secret,
                'UPHANCE_SECRET_ARN',
                organisationId ?? null,
                references.get(organisationId ?? null) ?? 'auto',
              ),
            logger,
            clients,
          );
    cached = { key, organisations: built };
    return built;
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
const organisationRuntime = (logger: Logger, clients: Clients, readSecret: ReadSecret) => {
  const kept = new Map<string, OrganisationRuntime>();
  return async (
    config: LambdaConfig,
    organisationId: number | null,
    reference: CredentialsReference,
  ): Promise<OrganisationRuntime> => {
    const credentialsOf = async (forceFetch: boolean) =>
      credentialsByReference(
        await readSecret(config.secretId, { forceFetch }),
        'UPHANCE_SECRET_ARN',
        organisationId,
        reference,
      );
    const credentials = await credentialsOf(false).catch(() => credentialsOf(true));
    const key = `${organisationId ?? 'default'}|${createHash('sha256').update(JSON.stringify(credentials)).digest('hex')}`;
    const found = kept.get(key);
    if (found) return found;
    const [built] = buildOrganisationRuntimes(
      sharedSettings(config),
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
 * What every function that runs cycles (poll worker, check) sets up once per cold start: Powertools
 * logger, metrics and tracer, traced AWS clients, the configuration, the cycle's logger, and the
 * organisations' runtimes.
 */
export const cycleLambda = () => {
  const logger = lambdaLogger();
  const metrics = lambdaMetrics();
  const tracer = lambdaTracer();
  const clients: Clients = {
    dynamodb: tracer.captureAWSv3Client(awsClient(DynamoDBClient)),
    eventbridge: tracer.captureAWSv3Client(awsClient(EventBridgeClient)),
  };
  const readSecret = lambdaSecrets(tracer);
  const configured = readAtColdStart(lambdaConfig);
  const cycleLogger = loggerPort(logger);
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
    dynamodb: clients.dynamodb,
    runtimesFor: deploymentRuntimes(cycleLogger, clients, readSecret),
    runtimeFor: organisationRuntime(cycleLogger, clients, readSecret),
  };
};
