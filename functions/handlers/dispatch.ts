import { MetricUnit } from '@aws-lambda-powertools/metrics';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SQSClient } from '@aws-sdk/client-sqs';
import { DynamoRegistry } from '../adapters/dynamodb-registry.js';
import { SqsPollQueue } from '../adapters/sqs-poll-queue.js';
import { credentialsByReference, credentialsGroup } from '../fanout/credentials.js';
import type { PolledOrganisation } from '../fanout/plan.js';
import { organisationHealth, periodMessages } from '../fanout/plan.js';
import { awsClient } from '../runtime/clients.js';
import { deploymentOrganisations } from '../runtime/deployment.js';
import { dispatchConfig, readAtColdStart } from '../runtime/lambda-config.js';
import {
  lambdaHandler,
  lambdaLogger,
  lambdaMetrics,
  lambdaSecrets,
  lambdaTracer,
} from '../runtime/powertools.js';
import { METRIC } from '../telemetry.js';

const logger = lambdaLogger();
const metrics = lambdaMetrics();
const tracer = lambdaTracer();
const dynamodb = tracer.captureAWSv3Client(awsClient(DynamoDBClient));
const sqs = tracer.captureAWSv3Client(awsClient(SQSClient));
const readSecret = lambdaSecrets(tracer);
const configured = readAtColdStart(dispatchConfig);

/** At most this many organisations are named in one log line (the counts are always whole). */
const LOGGED = 50;

export interface DispatchReport {
  scheduledAt: string;
  organisations: number;
  queued: number;
  failing: Array<number | null>;
  stale: Array<number | null>;
  /** DynamoDB units the registry's reads and writes consumed. */
  usage: { readUnits: number; writeUnits: number };
}

/** The period the schedule passes (its scheduled time, the same in its retries), else now (a run by hand). */
const periodOf = (event: unknown): number => {
  const scheduled = (event as { scheduledTime?: unknown } | null)?.scheduledTime;
  const ms = typeof scheduled === 'string' ? Date.parse(scheduled) : Number.NaN;
  return Number.isFinite(ms) ? ms : Date.now();
};

/**
 * The dispatcher, the schedule's target: each period it reads the deployment's organisations (those it
 * names and those registered, less those removed: deploymentOrganisations), queues one message per
 * organisation (ten a call, in the message group of its credentials, deduplicated per organisation and
 * period), and reports, from the worker's run records, how many organisations fail or have gone silent
 * (their ids in its log).
 */
export const dispatchHandler = async (event: unknown): Promise<DispatchReport> => {
  if ('error' in configured) {
    logger.error(`dispatch failed: ${configured.error.message}`);
    throw configured.error;
  }
  const { config } = configured;
  const scheduledAt = periodOf(event);
  const registry = new DynamoRegistry({ client: dynamodb, tableName: config.tableName });
  const [{ organisations, recordedSeed }, runs, secret] = await Promise.all([
    deploymentOrganisations(registry, config.seed),
    registry.runs(),
    readSecret(config.secretId).catch((error: Error) => {
      // The workers will report each organisation's failure; meanwhile each gets a group of its own.
      logger.error(`cannot read the credentials secret: ${error.message}`);
      return undefined;
    }),
  ]);
  const groupOf = (organisation: PolledOrganisation) => {
    try {
      return credentialsGroup(
        credentialsByReference(
          secret,
          'UPHANCE_SECRET_ARN',
          organisation.organisationId,
          organisation.credentials,
        ),
      );
    } catch {
      // No usable credentials: the worker reports it; it waits behind no one.
      return `org-${organisation.organisationId ?? 'default'}`;
    }
  };
  const queue = new SqsPollQueue({ client: sqs, queueUrl: config.queueUrl });
  const sent = await queue.send(periodMessages(organisations, scheduledAt, groupOf));

  const now = Date.now();
  const health = organisationHealth(organisations, runs, now, config.staleAfterMs);
  for (let i = 0; i < health.unseen.length; i += 25) {
    await Promise.all(health.unseen.slice(i, i + 25).map((id) => registry.recordFirstDispatch(id, now)));
  }
  if (JSON.stringify(recordedSeed) !== JSON.stringify(config.seed)) await registry.recordSeed(config.seed);

  metrics.addMetric(METRIC.OrganisationsDispatched, MetricUnit.Count, sent.sent);
  metrics.addMetric(METRIC.OrganisationsFailing, MetricUnit.Count, health.failing.length);
  metrics.addMetric(METRIC.OrganisationsStale, MetricUnit.Count, health.stale.length);
  if (health.failing.length > 0) {
    logger.warn(`${health.failing.length} organisations failing`, {
      failing: health.failing.slice(0, LOGGED).map((f) => ({
        organisationId: f.organisationId,
        error: f.error,
        failingSince: f.failingSince === null ? null : new Date(f.failingSince).toISOString(),
      })),
    });
  }
  if (health.stale.length > 0) {
    logger.warn(`${health.stale.length} organisations without a completed cycle`, {
      stale: health.stale.slice(0, LOGGED).map((s) => ({
        organisationId: s.organisationId,
        lastCompletedAt: s.lastCompletedAt === null ? null : new Date(s.lastCompletedAt).toISOString(),
      })),
    });
  }
  const report: DispatchReport = {
    scheduledAt: new Date(scheduledAt).toISOString(),
    organisations: organisations.length,
    queued: sent.sent,
    failing: health.failing.map((f) => f.organisationId),
    stale: health.stale.map((s) => s.organisationId),
    usage: { readUnits: registry.stats.readCapacity, writeUnits: registry.stats.writeCapacity },
  };
  logger.info('dispatched', { ...report, calls: sent.calls });
  // A retry of this period queues only what is missing: the rest is deduplicated by SQS.
  if (sent.failed.length > 0) {
    throw new Error(
      `${sent.failed.length} of ${organisations.length} poll messages could not be queued: ${sent.failed
        .slice(0, 10)
        .map((f) => `${f.entryId} (${f.code})`)
        .join(', ')}`,
    );
  }
  return report;
};

export const handler = lambdaHandler(dispatchHandler, { logger, metrics, tracer, coldStartMetric: true });
