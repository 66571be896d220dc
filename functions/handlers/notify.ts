/**
 * The notify function: subscription rules target it with the events a channel wants; it words each one with
 * the shared formatter and delivers it on its channel (messages/channels.ts): Block Kit to a Slack incoming
 * webhook, or subject and plain text to the email topic (EventBridge cannot set an SNS subject nor build
 * blocks). A failure throws, so Lambda's async retries and then the dead-letter queue take over.
 */
import { SNSClient } from '@aws-sdk/client-sns';
import { destinationOf } from '../adapters/channel-transports.js';
import type { NotifyDependencies } from '../adapters/notify-delivery.js';
import { notify } from '../adapters/notify-delivery.js';
import { CHANNELS } from '../messages/channels.js';
import { awsClient } from '../runtime/clients.js';
import { notifyConfig, readAtColdStart } from '../runtime/lambda-config.js';
import { lambdaHandler, lambdaLogger, lambdaSecrets, lambdaTracer } from '../runtime/powertools.js';

const configured = readAtColdStart(notifyConfig);
const logger = lambdaLogger();
const tracer = lambdaTracer();
const sns = tracer.captureAWSv3Client(awsClient(SNSClient));
const readSecret = lambdaSecrets(tracer);

const depsOf = (config: NotifyDependencies['config']): NotifyDependencies => ({
  config,
  // The secret is cached for 5 minutes: a replaced URL is picked up without a cold start.
  webhookUrl: () =>
    destinationOf(config.channel, config.target, CHANNELS[config.channel].target.notifyVariable, readSecret),
  sns,
  logger,
});

export const handler = lambdaHandler(
  (event: Parameters<typeof notify>[0]) => {
    // A bad environment fails each invocation with its reason (the retries and the dead-letter queue keep
    // the event), rather than the function's initialisation.
    if ('error' in configured) {
      logger.error(`notify misconfigured: ${configured.error.message}`);
      throw configured.error;
    }
    return notify(event, depsOf(configured.config));
  },
  { logger, tracer },
);
