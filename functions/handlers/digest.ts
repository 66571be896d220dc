import { MetricUnit } from '@aws-lambda-powertools/metrics';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SNSClient } from '@aws-sdk/client-sns';
import { DynamoRegistry } from '../adapters/dynamodb-registry.js';
import type { DigestChannel } from '../digest/job.js';
import { runDigestJob } from '../digest/job.js';
import { readDigestState } from '../digest/read-state.js';
import { awsClient } from '../runtime/clients.js';
import { signalSettings } from '../runtime/config.js';
import { deploymentOrganisations } from '../runtime/deployment.js';
import { digestChannelsFor, digestMarkerAt } from '../runtime/digest.js';
import type { DigestConfig } from '../runtime/lambda-config.js';
import { digestConfig } from '../runtime/lambda-config.js';
import {
  lambdaHandler,
  lambdaLogger,
  lambdaMetrics,
  lambdaSecrets,
  lambdaTracer,
} from '../runtime/powertools.js';
import { storeFor } from '../runtime/runtime.js';
import { METRIC } from '../telemetry.js';

const logger = lambdaLogger();
const metrics = lambdaMetrics();
const tracer = lambdaTracer();
const dynamodb = tracer.captureAWSv3Client(awsClient(DynamoDBClient));
const sns = tracer.captureAWSv3Client(awsClient(SNSClient));
const readSecret = lambdaSecrets(tracer);

/** One organisation's digest, from its own partition and marker. */
const organisationDigest = async (
  config: DigestConfig,
  channels: DigestChannel[],
  organisation: { organisationId: number | undefined; several: boolean },
  run: string | undefined,
): Promise<boolean> => {
  const { organisationId, several } = organisation;
  // Found where the poller finds it (its own partition, or the one it had before it was named).
  const store = storeFor(
    { organisationId, several, state: { kind: 'dynamodb', tableName: config.tableName } },
    { dynamodb },
  );
  const outcome = await runDigestJob({
    state: () => readDigestState(store),
    ...(organisationId === undefined ? {} : { organisationId }),
    // The marker goes with the state (the partition it was found in).
    marker: digestMarkerAt(await store.location(), dynamodb),
    channels,
    settings: signalSettings(process.env),
    now: Date.now,
    whenEmpty: config.whenEmpty,
    ...(run === undefined ? {} : { run }),
  });
  const scope = organisationId === undefined ? {} : { organisationId };
  if (outcome.digest === null) {
    logger.info('already made by this scheduled run (a retry): nothing sent again', { ...scope, run });
    return false;
  }
  const { digest, sent } = outcome;
  metrics.addMetric(sent ? METRIC.DigestSent : METRIC.DigestSkipped, MetricUnit.Count, 1);
  logger.info(sent ? 'digest sent' : 'nothing to report: no digest sent', {
    ...scope,
    channels: channels.length,
    overdue: digest.overdue.length,
    dueSoon: digest.dueSoon.length,
    stalled: digest.stalled.length,
    completed: digest.completed.length,
    received: digest.received.length,
  });
  return sent;
};

/**
 * Once a day (EventBridge Scheduler): one digest per organisation of the deployment (those it names and
 * those registered, less those removed: deploymentOrganisations) to Slack and email.
 * No Uphance request. One organisation failing never stops the others; the run fails after them, so that
 * the schedule retries, and the retry (same scheduled time) makes only the digests its first attempt did not.
 */
export const digestHandler = async (event: unknown = {}): Promise<{ sent: boolean }> => {
  // The schedule passes its scheduled time (the same in each retry of one run).
  const scheduled = (event as { scheduledTime?: unknown } | null)?.scheduledTime;
  const run = typeof scheduled === 'string' && scheduled !== '' ? scheduled : undefined;
  const failures: string[] = [];
  let sent = false;
  const fail = (error: Error, organisationId?: number) => {
    metrics.addMetric(METRIC.DigestFailed, MetricUnit.Count, 1);
    // The message only: a Slack URL is never part of it (slackChannel reports the status alone).
    logger.error('digest failed', {
      ...(organisationId === undefined ? {} : { organisationId }),
      reason: error.message,
    });
    failures.push(
      organisationId === undefined ? error.message : `organisation ${organisationId}: ${error.message}`,
    );
  };
  try {
    const config = digestConfig(process.env);
    const channels = await digestChannelsFor(config.targets, readSecret, { sns });
    const registry = new DynamoRegistry({ client: dynamodb, tableName: config.tableName });
    const { organisations } = await deploymentOrganisations(registry, config.organisationIds);
    const several = organisations.length > 1;
    for (const { organisationId: id } of organisations) {
      const organisationId = id ?? undefined;
      try {
        sent = (await organisationDigest(config, channels, { organisationId, several }, run)) || sent;
      } catch (error) {
        fail(error as Error, organisationId);
      }
    }
  } catch (error) {
    fail(error as Error);
  }
  if (failures.length > 0) throw new Error(`digest failed: ${failures.join('; ')}`);
  return { sent };
};

export const handler = lambdaHandler(digestHandler, { logger, metrics, tracer, coldStartMetric: true });
