/**
 * An example downstream consumer to copy: a Lambda subscribed to StageCompleted events by a rule.
 * - typed and validated with the notifier's own zod schema, through the Powertools parser;
 * - idempotent on detail.eventId through Powertools idempotency (delivery is at least once: a duplicate
 *   is always a re-emission with the same eventId).
 */
import { IdempotencyConfig } from '@aws-lambda-powertools/idempotency';
import { DynamoDBPersistenceLayer } from '@aws-lambda-powertools/idempotency/dynamodb';
import { makeHandlerIdempotent } from '@aws-lambda-powertools/idempotency/middleware';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { parser } from '@aws-lambda-powertools/parser/middleware';
import { EventBridgeSchema } from '@aws-lambda-powertools/parser/schemas';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import middy from '@middy/core';
import { z } from 'zod';
import { StageCompleted } from '../core/events/catalogue.js';
import { lineOf } from '../messages/message.js';
import { awsClient } from '../runtime/clients.js';
import { lambdaLogger } from '../runtime/powertools.js';

const logger = lambdaLogger();

export const StageCompletedEvent = EventBridgeSchema.extend({
  'detail-type': z.literal('StageCompleted'),
  detail: StageCompleted,
});
export type StageCompletedEvent = z.infer<typeof StageCompletedEvent>;

const persistenceStore = new DynamoDBPersistenceLayer({
  tableName: process.env.IDEMPOTENCY_TABLE_NAME ?? 'uphance-notifier-idempotency',
  awsSdkV3Client: awsClient(DynamoDBClient),
});

/** What the consumer does with one event: here, a log line; yours may call an API or write a row. */
export const onStageCompleted = async (event: StageCompletedEvent) => {
  const message = lineOf({ detailType: 'StageCompleted', detail: event.detail });
  logger.info(message, { eventId: event.detail.eventId, sequence: event.detail.sequence });
  return { eventId: event.detail.eventId, message };
};

export const handler = middy()
  .use(injectLambdaContext(logger))
  .use(parser({ schema: StageCompletedEvent }))
  .use(
    makeHandlerIdempotent({
      persistenceStore,
      config: new IdempotencyConfig({
        eventKeyJmesPath: 'detail.eventId',
        expiresAfterSeconds: 7 * 24 * 3600,
      }),
    }),
  )
  .handler(onStageCompleted);
