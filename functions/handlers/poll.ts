import { Logger } from '@aws-lambda-powertools/logger';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import { getSecret } from '@aws-lambda-powertools/parameters/secrets';
import { Tracer } from '@aws-lambda-powertools/tracer';
import { captureLambdaHandler } from '@aws-lambda-powertools/tracer/middleware';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import middy from '@middy/core';
import type { Context } from 'aws-lambda';
import type { DynamoStateStore } from '../adapters/dynamodb-store.js';
import type { EventBridgeSink } from '../adapters/eventbridge-sink.js';
import { credentialsFromSecret } from '../config.js';
import type { CycleReport } from '../cycle/cycle.js';
import { runCycle } from '../cycle/cycle.js';
import type { Logger as CycleLogger } from '../cycle/ports.js';
import type { Runtime } from '../wiring.js';
import { buildRuntime } from '../wiring.js';
import { lambdaConfig } from './lambda-config.js';

// Cold start: configuration is checked here, so a bad setting fails the init with its name.
const config = lambdaConfig(process.env);
const logger = new Logger({ serviceName: 'uphance-notifier' });
const metrics = new Metrics({ namespace: 'UphanceNotifier', serviceName: 'uphance-notifier' });
const tracer = new Tracer({ serviceName: 'uphance-notifier' });
const dynamodb = tracer.captureAWSv3Client(new DynamoDBClient({}));
const eventbridge = tracer.captureAWSv3Client(new EventBridgeClient({}));

/** Leaves time to commit and release the lease before the Lambda timeout. */
const COMMIT_RESERVE_MS = 45_000;

const cycleLogger: CycleLogger = {
  debug: (message, fields) => logger.debug(message, fields ?? {}),
  info: (message, fields) => logger.info(message, fields ?? {}),
  warn: (message, fields) => logger.warn(message, fields ?? {}),
  error: (message, fields) => logger.error(message, fields ?? {}),
};

/** Reused across warm invocations so that an OAuth token is kept until it needs refreshing. */
let cached: { secret: string; runtime: Runtime } | undefined;

const runtimeFor = async (): Promise<Runtime> => {
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

const recordMetrics = (report: CycleReport, runtime: Runtime, before: Counters) => {
  const store = runtime.store as DynamoStateStore;
  const sink = runtime.sink as EventBridgeSink;
  if (report.outcome === 'lease-held') {
    metrics.addMetric('LeaseLost', MetricUnit.Count, 1);
    return;
  }
  metrics.addMetric('CycleCompleted', MetricUnit.Count, 1);
  metrics.addMetric('OrdersScanned', MetricUnit.Count, report.ordersScanned);
  metrics.addMetric('OrdersChanged', MetricUnit.Count, report.snapshotsWritten);
  metrics.addMetric('EventsEmitted', MetricUnit.Count, report.events + report.republished);
  metrics.addMetric('MalformedOrders', MetricUnit.Count, report.malformed);
  metrics.addMetric('ApiCalls', MetricUnit.Count, runtime.apiStats.requests - before.requests);
  metrics.addMetric('ApiRetries', MetricUnit.Count, runtime.apiStats.retries - before.retries);
  metrics.addMetric('PutEventsFailures', MetricUnit.Count, sink.stats.failedEntries - before.failedEntries);
  metrics.addMetric('DynamoDbWrites', MetricUnit.Count, store.stats.writes - before.writes);
  metrics.addMetric('CycleDuration', MetricUnit.Milliseconds, report.durationMs);
  if (report.outcome === 'budget-exhausted') metrics.addMetric('CycleBudgetExhausted', MetricUnit.Count, 1);
};

interface Counters {
  requests: number;
  retries: number;
  failedEntries: number;
  writes: number;
}

/** One poll cycle per scheduled invocation. */
export const pollHandler = async (_event: unknown, context: Context): Promise<CycleReport> => {
  const runtime = await runtimeFor();
  const sink = runtime.sink as EventBridgeSink;
  const store = runtime.store as DynamoStateStore;
  const before: Counters = {
    requests: runtime.apiStats.requests,
    retries: runtime.apiStats.retries,
    failedEntries: sink.stats.failedEntries,
    writes: store.stats.writes,
  };
  const remaining = context.getRemainingTimeInMillis();
  const budgetMs = Math.max(5_000, Math.min(config.budgetMs, remaining - COMMIT_RESERVE_MS));
  try {
    const report = await runCycle(
      { ...runtime.deps, now: Date.now, logger: cycleLogger },
      {
        owner: context.awsRequestId,
        budgetMs,
        // The lease outlives this invocation by a margin: a runner killed by the timeout frees it soon after.
        leaseTtlMs: remaining + 30_000,
        sweepIntervalMs: config.sweepIntervalMs,
        emitBaseline: config.emitBaseline,
        signals: config.signals,
      },
    );
    recordMetrics(report, runtime, before);
    logger.info('cycle done', { ...report });
    return report;
  } catch (error) {
    metrics.addMetric('CycleFailed', MetricUnit.Count, 1);
    metrics.addMetric('PutEventsFailures', MetricUnit.Count, sink.stats.failedEntries - before.failedEntries);
    logger.error('cycle failed; nothing was committed past the last journaled step', error as Error);
    throw error;
  }
};

export const handler = middy(pollHandler)
  .use(logMetrics(metrics, { captureColdStartMetric: true }))
  .use(injectLambdaContext(logger, { clearState: true }))
  .use(captureLambdaHandler(tracer));
