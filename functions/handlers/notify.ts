/**
 * The notify function: subscription rules target it with the events a channel wants; it words each one with
 * the shared formatter and delivers it: Block Kit to a Slack incoming webhook, or subject and plain text to
 * the email topic (EventBridge cannot set an SNS subject nor build blocks). A failure throws, so Lambda's
 * async retries and then the dead-letter queue take over.
 */
import { Logger } from '@aws-lambda-powertools/logger';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { getSecret } from '@aws-lambda-powertools/parameters/secrets';
import { Tracer } from '@aws-lambda-powertools/tracer';
import { captureLambdaHandler } from '@aws-lambda-powertools/tracer/middleware';
import { SNSClient } from '@aws-sdk/client-sns';
import middy from '@middy/core';
import type { NotifyDependencies } from '../adapters/notify-delivery.js';
import { notify, notifyConfig, webhookUrlOf } from '../adapters/notify-delivery.js';

const config = notifyConfig(process.env);
const logger = new Logger({ serviceName: 'uphance-notifier-notify' });
const tracer = new Tracer({ serviceName: 'uphance-notifier-notify' });
const sns = tracer.captureAWSv3Client(new SNSClient({}));

const deps: NotifyDependencies = {
  config,
  // Powertools caches the secret for 5 minutes: a replaced URL is picked up without a cold start.
  webhookUrl: async () =>
    webhookUrlOf(await getSecret(config.target, { maxAge: 300 }), 'SLACK_WEBHOOK_SECRET_ARN'),
  sns,
  logger,
};

export const handler = middy((event: Parameters<typeof notify>[0]) => notify(event, deps))
  .use(injectLambdaContext(logger, { clearState: true }))
  .use(captureLambdaHandler(tracer));
