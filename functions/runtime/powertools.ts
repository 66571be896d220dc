import { Logger } from '@aws-lambda-powertools/logger';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import { SecretsProvider } from '@aws-lambda-powertools/parameters/secrets';
import { Tracer } from '@aws-lambda-powertools/tracer';
import { captureLambdaHandler } from '@aws-lambda-powertools/tracer/middleware';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import middy from '@middy/core';
import type { Context } from 'aws-lambda';
import type { Logger as LoggerPort } from '../cycle/ports.js';
import { METRICS_NAMESPACE, SERVICE_NAME } from '../telemetry.js';
import { awsClient } from './clients.js';

/**
 * Powertools for the functions, under one service name (telemetry.ts): each entry point makes the ones it
 * uses once per cold start, and runs its handler in lambdaHandler's middleware.
 */
export const lambdaLogger = (): Logger => new Logger({ serviceName: SERVICE_NAME });
export const lambdaMetrics = (): Metrics =>
  new Metrics({ namespace: METRICS_NAMESPACE, serviceName: SERVICE_NAME });
export const lambdaTracer = (): Tracer => new Tracer({ serviceName: SERVICE_NAME });

/** The cycle's logger port, writing through the Powertools logger (structured, with the invocation's context). */
export const loggerPort = (logger: Logger): LoggerPort => ({
  debug: (message, fields) => logger.debug(message, fields ?? {}),
  info: (message, fields) => logger.info(message, fields ?? {}),
  warn: (message, fields) => logger.warn(message, fields ?? {}),
  error: (message, fields) => logger.error(message, fields ?? {}),
});

/**
 * Reads Secrets Manager secrets through Powertools' cache (5 minutes: a replaced value is picked up
 * without a cold start; `forceFetch` reads it again now), on a traced client with the project's timeouts.
 */
export const lambdaSecrets = (tracer: Tracer) => {
  const provider = new SecretsProvider({
    awsSdkV3Client: tracer.captureAWSv3Client(awsClient(SecretsManagerClient)),
  });
  return (name: string, options: { forceFetch?: boolean } = {}) =>
    provider.get(name, { maxAge: 300, ...options });
};

/**
 * A function's handler in the middleware every entry point runs in, outermost first: its metrics flushed
 * after each invocation (with `coldStartMetric`, a ColdStart metric on the first), the Lambda context in
 * every log line (cleared between invocations), and the invocation traced.
 */
export const lambdaHandler = <Event, Result>(
  handler: (event: Event, context: Context) => Promise<Result>,
  tools: { logger: Logger; tracer: Tracer; metrics?: Metrics; coldStartMetric?: boolean },
) => {
  const chain = middy(handler);
  if (tools.metrics)
    chain.use(logMetrics(tools.metrics, { captureColdStartMetric: tools.coldStartMetric ?? false }));
  return chain
    .use(injectLambdaContext(tools.logger, { clearState: true }))
    .use(captureLambdaHandler(tools.tracer));
};
