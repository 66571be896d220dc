import type { Context } from 'aws-lambda';

/** A Lambda context whose remaining time is fixed (the handlers derive their deadlines from it). */
export const lambdaContext = (remainingMs: number, functionName = 'f'): Context =>
  ({
    awsRequestId: `req-${Math.random().toString(16).slice(2)}`,
    functionName,
    functionVersion: '$LATEST',
    invokedFunctionArn: `arn:aws:lambda:us-east-1:123456789012:function:${functionName}`,
    memoryLimitInMB: '512',
    logGroupName: `/aws/lambda/${functionName}`,
    logStreamName: 's',
    callbackWaitsForEmptyEventLoop: false,
    getRemainingTimeInMillis: () => remainingMs,
  }) as unknown as Context;

/**
 * The environment a handler runs in against local endpoints: local credentials, the endpoints given
 * (AWS_ENDPOINT_URL_<SERVICE>), Powertools without tracing.
 */
export const localLambdaEnv = (
  endpoints: { dynamodb?: string; eventbridge?: string; secretsManager?: string; sqs?: string },
  logLevel = 'WARN',
): Record<string, string> => ({
  AWS_REGION: 'us-east-1',
  AWS_ACCESS_KEY_ID: 'local',
  AWS_SECRET_ACCESS_KEY: 'local',
  ...(endpoints.dynamodb ? { AWS_ENDPOINT_URL_DYNAMODB: endpoints.dynamodb } : {}),
  ...(endpoints.eventbridge ? { AWS_ENDPOINT_URL_EVENTBRIDGE: endpoints.eventbridge } : {}),
  ...(endpoints.secretsManager ? { AWS_ENDPOINT_URL_SECRETS_MANAGER: endpoints.secretsManager } : {}),
  ...(endpoints.sqs ? { AWS_ENDPOINT_URL_SQS: endpoints.sqs } : {}),
  POWERTOOLS_TRACE_ENABLED: 'false',
  POWERTOOLS_METRICS_NAMESPACE: 'UphanceNotifier',
  POWERTOOLS_LOG_LEVEL: logLevel,
  POWERTOOLS_DEV: 'false',
});
