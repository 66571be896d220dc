import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { MetricUnit } from '@aws-lambda-powertools/metrics';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import { captureLambdaHandler } from '@aws-lambda-powertools/tracer/middleware';
import middy from '@middy/core';
import type { Context } from 'aws-lambda';
import type { DynamoStateStore } from '../adapters/dynamodb-store.js';
import type { EventBridgeSink } from '../adapters/eventbridge-sink.js';
import { CommitReplayError } from '../cycle/commit.js';
import type { CycleReport } from '../cycle/cycle.js';
import { runCycle } from '../cycle/cycle.js';
import { LeaseLostError } from '../cycle/ports.js';
import type { OrganisationRuntime } from '../organisations.js';
import { eachOrganisation } from '../organisations.js';
import { METRIC, ORGANISATION_DIMENSION } from '../telemetry.js';
import type { Runtime } from '../wiring.js';
import type { LambdaConfig } from './lambda-config.js';
import { cycleLambda } from './runtimes.js';

const { logger, metrics, tracer, configured, cycleArgs, runtimesFor } = cycleLambda();

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

/** Per-organisation metrics (dimension `organisation`, beside `service`): one EMF record each. */
const organisationMetric = (organisationId: number | undefined, name: string) => {
  if (organisationId === undefined) return;
  const single = metrics.singleMetric();
  single.addDimension(ORGANISATION_DIMENSION, String(organisationId));
  single.addMetric(name, MetricUnit.Count, 1);
};

export interface OrganisationsReport {
  organisations: Array<{ organisationId: number | undefined; report?: CycleReport; error?: string }>;
}

/**
 * One poll cycle per scheduled invocation, for each organisation in turn (each with its share of the
 * time left). One organisation's failure never stops the others; the invocation fails (and the alarms
 * fire) when any failed, after all have run.
 */
export const pollHandler = async (
  _event: unknown,
  context: Context,
): Promise<CycleReport | OrganisationsReport> => {
  const fail = (cause: Error, organisationId: number | undefined) => {
    metrics.addMetric(METRIC.CycleFailed, MetricUnit.Count, 1);
    organisationMetric(organisationId, METRIC.CycleFailed);
    if (cause instanceof LeaseLostError) metrics.addMetric(METRIC.LeaseLost, MetricUnit.Count, 1);
    if (cause instanceof CommitReplayError) metrics.addMetric(METRIC.CommitReplayFailed, MetricUnit.Count, 1);
    // Events set aside before the failure are counted: later cycles will not see them again.
    const partial = (cause as { cycleReport?: CycleReport }).cycleReport;
    if (partial?.setAside) metrics.addMetric(METRIC.EventsSetAside, MetricUnit.Count, partial.setAside);
    logger.error(`cycle failed: ${cause.message}`, {
      cause: cause.name,
      ...(organisationId === undefined ? {} : { organisationId }),
    });
  };
  let organisations: OrganisationRuntime[];
  let config: LambdaConfig;
  try {
    if ('error' in configured) throw configured.error;
    config = configured.config;
    organisations = await runtimesFor(config);
  } catch (error) {
    fail(error as Error, undefined);
    throw error;
  }
  const outcomes = await eachOrganisation(organisations, async (runtime, organisationId, index) => {
    const before = countersOf(runtime);
    try {
      const { deps, options } = cycleArgs(
        config,
        runtime,
        organisationId,
        context,
        organisations.length - index,
      );
      const report = await runCycle(deps, options);
      recordMetrics(report, runtime, before);
      if (report.outcome !== 'lease-held' && report.outcome !== 'deadline')
        organisationMetric(organisationId, METRIC.CycleCompleted);
      logger.info('cycle done', { ...report, ...(organisationId === undefined ? {} : { organisationId }) });
      return report;
    } catch (error) {
      const after = countersOf(runtime);
      metrics.addMetric(
        METRIC.PutEventsFailures,
        MetricUnit.Count,
        after.failedEntries - before.failedEntries,
      );
      throw error;
    }
  });
  for (const outcome of outcomes) if (!outcome.ok) fail(outcome.error, outcome.organisationId);
  const failed = outcomes.filter((o) => !o.ok);
  if (outcomes.length === 1) {
    const only = outcomes[0] as (typeof outcomes)[number];
    if (!only.ok) throw only.error;
    return only.value;
  }
  if (failed.length > 0) {
    throw new Error(
      `${failed.length} of ${outcomes.length} organisations failed: ${failed
        .map((o) => `${o.organisationId} (${o.ok ? '' : o.error.message})`)
        .join('; ')}`,
    );
  }
  return {
    organisations: outcomes.map((o) =>
      o.ok ? { organisationId: o.organisationId, report: o.value } : { organisationId: o.organisationId },
    ),
  };
};

export const handler = middy(pollHandler)
  .use(logMetrics(metrics, { captureColdStartMetric: true }))
  .use(injectLambdaContext(logger, { clearState: true }))
  .use(captureLambdaHandler(tracer));
