import { Logger } from '@aws-lambda-powertools/logger';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import { getSecret } from '@aws-lambda-powertools/parameters/secrets';
import { Tracer } from '@aws-lambda-powertools/tracer';
import { captureLambdaHandler } from '@aws-lambda-powertools/tracer/middleware';
import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import middy from '@middy/core';
import type { Context } from 'aws-lambda';
import type { DynamoStateStore } from '../adapters/dynamodb-store.js';
import { dynamoDbClient } from '../adapters/dynamodb-store.js';
import type { EventBridgeSink } from '../adapters/eventbridge-sink.js';
import { credentialsFromSecret } from '../config.js';
import type { CycleReport } from '../cycle/cycle.js';
import { runCycle } from '../cycle/cycle.js';
import type { Logger as CycleLogger } from '../cycle/ports.js';
import { LeaseLostError } from '../cycle/ports.js';
import { METRIC, METRICS_NAMESPACE, SERVICE_NAME } from '../telemetry.js';
import type { Runtime } from '../wiring.js';
import { buildRuntime } from '../wiring.js';
import type { LambdaConfig } from './lambda-config.js';
import { cycleTimes, lambdaConfig } from './lambda-config.js';

const logger = new Logger({ serviceName: SERVICE_NAME });
const metrics = new Metrics({ namespace: METRICS_NAMESPACE, serviceName: SERVICE_NAME });
const tracer = new Tracer({ serviceName: SERVICE_NAME });
const dynamodb = tracer.captureAWSv3Client(dynamoDbClient());
const eventbridge = tracer.captureAWSv3Client(new EventBridgeClient({}));

// Checked at cold start, reported by every invocation: a bad setting fails each run with its name and a
// CycleFailed metric (an exception at import would record no metric at all).
const configured: { config: LambdaConfig } | { error: Error } = (() => {
  try {
    return { config: lambdaConfig(process.env) };
  } catch (error) {
    return { error: error as Error };
  }
})();

const cycleLogger: CycleLogger = {
  debug: (message, fields) => logger.debug(message, fields ?? {}),
  info: (message, fields) => logger.info(message, fields ?? {}),
  warn: (message, fields) => logger.warn(message, fields ?? {}),
  error: (message, fields) => logger.error(message, fields ?? {}),
};

/** Reused across warm invocations so that an OAuth token is kept until it needs refreshing. */
let cached: { secret: string; runtime: Runtime } | undefined;

const runtimeFor = async (config: LambdaConfig): Promise<Runtime> => {
  // Powertools caches the secret (5 minutes), so a rotated value is picked up without a cold start.
  const secret = await getSecret(config.secretId, { maxAge: 300 });
  const key = typeof secret === 'string' ? secret : JSON.stringify(secret);
  if (cached?.secret === key) return cached.runtime;
  const runtime = buildRuntime(
    {
      apiUrl: config.apiUrl,
      credentials: credentialsFromSecret(secret, 'UPHANCE_SECRET_ARN'),
      organisationId: config.organisationId,
      state: { kind: 'dynamodb', tableName: config.tableName },
      sink: { kind: 'eventbridge', busName: config.eventBusName },
      source: config.source,
      requestTimeoutMs: config.requestTimeoutMs,
    },
    cycleLogger,
    { dynamodb, eventbridge },
  );
  cached = { secret: key, runtime };
  return runtime;
};

interface Counters {
  requests: number;
  retries: number;
  failedEntries: number;
  writes: number;
}

const countersOf = (runtime: Runtime): Counters => ({
  requests: runtime.apiStats.requests,
  retries: runtime.apiStats.retries,
  failedEntries: (runtime.sink as EventBridgeSink).stats.failedEntries,
  writes: (runtime.store as DynamoStateStore).stats.writes,
});

const recordMetrics = (report: CycleReport, runtime: Runtime, before: Counters) => {
  const after = countersOf(runtime);
  const count = (name: string, value: number) => metrics.addMetric(name, MetricUnit.Count, value);
  if (report.outcome === 'lease-held') {
    count(METRIC.LeaseHeld, 1);
    return;
  }
  if (report.tookOverFrom) count(METRIC.LeaseTakenOver, 1);
  // A cycle the deadline cut did not complete: the heartbeat alarm must see a function that never does.
  if (report.outcome === 'deadline') count(METRIC.CycleDeadlineReached, 1);
  else count(METRIC.CycleCompleted, 1);
  count(METRIC.OrdersScanned, report.ordersScanned);
  count(METRIC.OrdersChanged, report.snapshotsWritten);
  count(METRIC.EventsEmitted, report.events + report.republished);
  count(METRIC.EventsSetAside, report.setAside);
  count(METRIC.MalformedOrders, report.malformed);
  count(METRIC.OrdersTooLarge, report.oversized);
  count(METRIC.ApiCalls, after.requests - before.requests);
  count(METRIC.ApiRetries, after.retries - before.retries);
  count(METRIC.PutEventsFailures, after.failedEntries - before.failedEntries);
  count(METRIC.DynamoDbWrites, after.writes - before.writes);
  metrics.addMetric(METRIC.CycleDuration, MetricUnit.Milliseconds, report.durationMs);
  if (report.outcome === 'budget-exhausted') count(METRIC.CycleBudgetExhausted, 1);
};

/** One poll cycle per scheduled invocation. */
export const pollHandler = async (_event: unknown, context: Context): Promise<CycleReport> => {
  let runtime: Runtime | undefined;
  let before: Counters | undefined;
  try {
    if ('error' in configured) throw configured.error;
    const { config } = configured;
    runtime = await runtimeFor(config);
    before = countersOf(runtime);
    const times = cycleTimes(context.getRemainingTimeInMillis(), config.budgetMs);
    const report = await runCycle(
      { ...runtime.deps, now: Date.now, logger: cycleLogger },
      {
        owner: context.awsRequestId,
        ...times,
        sweepIntervalMs: config.sweepIntervalMs,
        emitBaseline: config.emitBaseline,
        signals: config.signals,
      },
    );
    recordMetrics(report, runtime, before);
    logger.info('cycle done', { ...report });
    return report;
  } catch (error) {
    const cause = error as Error;
    metrics.addMetric(METRIC.CycleFailed, MetricUnit.Count, 1);
    if (cause instanceof LeaseLostError) metrics.addMetric(METRIC.LeaseLost, MetricUnit.Count, 1);
    // Events set aside before the failure are counted: later cycles will not see them again.
    const partial = (cause as { cycleReport?: CycleReport }).cycleReport;
    if (partial?.setAside) metrics.addMetric(METRIC.EventsSetAside, MetricUnit.Count, partial.setAside);
    if (runtime && before) {
      const after = countersOf(runtime);
      metrics.addMetric(
        METRIC.PutEventsFailures,
        MetricUnit.Count,
        after.failedEntries - before.failedEntries,
      );
    }
    logger.error(`cycle failed: ${cause.message}`, { cause: cause.name });
    throw error;
  }
};

export const handler = middy(pollHandler)
  .use(logMetrics(metrics, { captureColdStartMetric: true }))
  .use(injectLambdaContext(logger, { clearState: true }))
  .use(captureLambdaHandler(tracer));
