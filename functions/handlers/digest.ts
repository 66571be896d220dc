import { Logger } from '@aws-lambda-powertools/logger';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import { getSecret } from '@aws-lambda-powertools/parameters/secrets';
import { Tracer } from '@aws-lambda-powertools/tracer';
import { captureLambdaHandler } from '@aws-lambda-powertools/tracer/middleware';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import middy from '@middy/core';
import { DynamoStateStore } from '../adapters/dynamodb-store.js';
import { readSnapshots } from '../board/read-state.js';
import { boardSettings } from '../board/settings.js';
import { ConfigError } from '../config.js';
import type { DigestChannel } from '../digest/job.js';
import { runDigestJob, slackChannel } from '../digest/job.js';
import { DynamoDigestMarker } from '../digest/marker.js';
import { METRIC, METRICS_NAMESPACE, SERVICE_NAME } from '../telemetry.js';
import { webhookUrlOf } from './notify-delivery.js';

const logger = new Logger({ serviceName: SERVICE_NAME });
const metrics = new Metrics({ namespace: METRICS_NAMESPACE, serviceName: SERVICE_NAME });
const tracer = new Tracer({ serviceName: SERVICE_NAME });
const dynamodb = tracer.captureAWSv3Client(new DynamoDBClient({}));
const sns = tracer.captureAWSv3Client(new SNSClient({}));

export interface DigestConfig {
  tableName: string;
  organisation: string;
  topicArn: string | undefined;
  /** The secret holding the Slack incoming-webhook URL (plain or {"url": "..."}), read at each run. */
  slackWebhookSecretArn: string | undefined;
  whenEmpty: boolean;
}

/** The digest function's settings from the environment the stack sets; a bad one is named. */
export const digestConfig = (env: Record<string, string | undefined>): DigestConfig => {
  if (!env.TABLE_NAME) throw new ConfigError('TABLE_NAME is not set');
  const whenEmpty = env.DIGEST_WHEN_EMPTY ?? 'false';
  if (whenEmpty !== 'true' && whenEmpty !== 'false')
    throw new ConfigError(`DIGEST_WHEN_EMPTY must be true or false, got "${whenEmpty}"`);
  return {
    tableName: env.TABLE_NAME,
    organisation: env.UPHANCE_ORGANISATION_ID || 'default',
    topicArn: env.DIGEST_TOPIC_ARN || undefined,
    slackWebhookSecretArn: env.SLACK_WEBHOOK_SECRET_ARN || undefined,
    whenEmpty: whenEmpty === 'true',
  };
};

/** Email: one SNS message with a subject (SNS allows 100 characters). */
const emailChannel =
  (topicArn: string): DigestChannel =>
  async ({ subject, text }) => {
    await sns.send(new PublishCommand({ TopicArn: topicArn, Subject: subject.slice(0, 100), Message: text }));
  };

/** Once a day (EventBridge Scheduler): the digest of the state table to Slack and email. No Uphance request. */
export const digestHandler = async (): Promise<{ sent: boolean }> => {
  try {
    const config = digestConfig(process.env);
    const channels: DigestChannel[] = [];
    if (config.slackWebhookSecretArn) {
      const secret = await getSecret(config.slackWebhookSecretArn, { maxAge: 300 });
      channels.push(slackChannel(webhookUrlOf(secret, 'SLACK_WEBHOOK_SECRET_ARN')));
    }
    if (config.topicArn) channels.push(emailChannel(config.topicArn));
    const store = new DynamoStateStore({
      client: dynamodb,
      tableName: config.tableName,
      organisation: config.organisation,
    });
    const { digest, sent } = await runDigestJob({
      snapshots: () => readSnapshots(store),
      marker: new DynamoDigestMarker(dynamodb, config.tableName, config.organisation),
      channels,
      settings: boardSettings(process.env),
      now: Date.now,
      whenEmpty: config.whenEmpty,
    });
    metrics.addMetric(sent ? METRIC.DigestSent : METRIC.DigestSkipped, MetricUnit.Count, 1);
    logger.info(sent ? 'digest sent' : 'nothing to report: no digest sent', {
      channels: channels.length,
      overdue: digest.overdue.length,
      dueSoon: digest.dueSoon.length,
      stalled: digest.stalled.length,
      completed: digest.completed.length,
      received: digest.received.length,
    });
    return { sent };
  } catch (error) {
    metrics.addMetric(METRIC.DigestFailed, MetricUnit.Count, 1);
    // The message only: a Slack URL is never part of it (slackChannel reports the status alone).
    logger.error('digest failed', { reason: (error as Error).message });
    throw error;
  }
};

export const handler = middy(digestHandler)
  .use(logMetrics(metrics, { captureColdStartMetric: true }))
  .use(injectLambdaContext(logger, { clearState: true }))
  .use(captureLambdaHandler(tracer));
