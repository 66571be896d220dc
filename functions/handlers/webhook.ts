import { MetricUnit } from '@aws-lambda-powertools/metrics';
import { SQSClient } from '@aws-sdk/client-sqs';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { SqsCheckQueue } from '../adapters/sqs-check-queue.js';
import { awsClient } from '../runtime/clients.js';
import { readAtColdStart, webhookConfig } from '../runtime/lambda-config.js';
import {
  lambdaHandler,
  lambdaLogger,
  lambdaMetrics,
  lambdaSecrets,
  lambdaTracer,
} from '../runtime/powertools.js';
import { METRIC } from '../telemetry.js';
import type { WebhookAnswer } from '../webhook/intake.js';
import { judgeBody, judgeHead, MAX_WEBHOOK_BODY_BYTES } from '../webhook/intake.js';
import { checkMessage } from '../webhook/message.js';
import { RateLimiter } from '../webhook/rate-limit.js';

const logger = lambdaLogger();
const metrics = lambdaMetrics();
const tracer = lambdaTracer();
const sqs = tracer.captureAWSv3Client(awsClient(SQSClient));
const readSecret = lambdaSecrets(tracer);
const configured = readAtColdStart(webhookConfig);

/**
 * Per instance, for requests that carry the secret only: the HTTP API's stage throttle bounds all
 * instances together; this bounds one address.
 */
const limiter = new RateLimiter({}, Date.now());

const respond = (answer: WebhookAnswer): APIGatewayProxyStructuredResultV2 => ({
  statusCode: answer.status,
  headers: { 'content-type': 'application/json' },
  body: JSON.stringify(answer.body),
});

const bodyOf = (event: APIGatewayProxyEventV2): string | { tooLarge: true } => {
  const raw = event.body ?? '';
  // Measured before decoding: a base64 body is 4/3 the size of what it holds.
  if (raw.length > Math.ceil((MAX_WEBHOOK_BODY_BYTES * 4) / 3) + 4) return { tooLarge: true };
  return event.isBase64Encoded ? Buffer.from(raw, 'base64').toString('utf8') : raw;
};

/**
 * The deployed webhook endpoint (HTTP API, `ANY /webhooks/uphance/{secret}`): judges the request (secret
 * compared in constant time, before anything else: a request without it is answered 404 and spends no
 * part of the rate limit) and queues the named order on the FIFO check queue, in its organisation's
 * group. Its answer never waits on Uphance. The path is never logged: it holds the secret.
 */
export const webhookHandler = async (
  event: APIGatewayProxyEventV2,
): Promise<APIGatewayProxyStructuredResultV2> => {
  if ('error' in configured) {
    logger.error(`webhook endpoint misconfigured: ${configured.error.message}`);
    throw configured.error;
  }
  const { config } = configured;
  const count = (name: string) => metrics.addMetric(name, MetricUnit.Count, 1);
  const secret = await readSecret(config.webhookSecretId);
  if (typeof secret !== 'string' || secret === '') throw new Error('the webhook secret is empty');
  const now = Date.now();
  const answer =
    judgeHead(event.requestContext.http.method, event.rawPath, secret, () =>
      limiter.allow(event.requestContext.http.sourceIp, now),
    ) ??
    // Any organisation id is taken: the check function knows the organisations and drops an unknown one.
    judgeBody(bodyOf(event), event.queryStringParameters?.organisation ?? null, 'any');
  if (answer.check) {
    const message = checkMessage(answer.check, now);
    await new SqsCheckQueue(sqs, config.queueUrl).send(message);
    count(METRIC.WebhookAccepted);
    logger.info('webhook: order queued for a check', { order: answer.check.number });
  } else if (answer.status === 429) {
    count(METRIC.WebhookRateLimited);
  } else if (answer.status === 202) {
    count(METRIC.WebhookIgnored);
  } else {
    count(METRIC.WebhookRejected);
    // A flood of guesses must not flood the logs too: wrong secrets are counted, logged at debug only.
    const fields = { status: answer.status, reason: answer.reason };
    if (answer.status === 404) logger.debug('webhook refused', fields);
    else logger.info('webhook refused', fields);
  }
  return respond(answer);
};

export const handler = lambdaHandler(webhookHandler, { logger, metrics, tracer });
