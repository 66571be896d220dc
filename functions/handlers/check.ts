import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { MetricUnit } from '@aws-lambda-powertools/metrics';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import { captureLambdaHandler } from '@aws-lambda-powertools/tracer/middleware';
import middy from '@middy/core';
import type { Context, SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { CommitReplayError } from '../cycle/commit.js';
import type { CheckReport } from '../cycle/targeted.js';
import { runCheck } from '../cycle/targeted.js';
import { eachOrganisation } from '../organisations.js';
import { METRIC } from '../telemetry.js';
import { numbersByOrganisation } from '../webhook/assign.js';
import type { CheckRequest } from '../webhook/intake.js';
import { parseCheckMessage } from '../webhook/message.js';
import { cycleLambda } from './runtimes.js';

const { logger, metrics, tracer, configured, cycleArgs, runtimesFor } = cycleLambda();

export interface CheckResult extends SQSBatchResponse {
  reports: Array<{ organisationId: number | undefined; report: CheckReport }>;
}

/**
 * The check consumer: a batch of queued order numbers (FIFO, one group: one batch at a time) is checked
 * in each organisation concerned, through the cycle's lease and commit path. When any organisation could
 * not finish (its lease was held by a scheduled cycle, a failure, the time ran out), the whole batch goes
 * back to the queue (FIFO keeps the order behind it): a repeated check costs a look-up and emits nothing
 * twice. Messages that are not checks are dropped.
 */
export const checkHandler = async (event: SQSEvent, context: Context): Promise<CheckResult> => {
  if ('error' in configured) {
    metrics.addMetric(METRIC.CheckFailed, MetricUnit.Count, 1);
    logger.error(`check failed: ${configured.error.message}`);
    throw configured.error;
  }
  const { config } = configured;
  const requests: CheckRequest[] = [];
  for (const record of event.Records) {
    const request = parseCheckMessage(record.body);
    if (request) requests.push(request);
    else logger.warn('dropping a queue message that is not a check', { messageId: record.messageId });
  }
  const organisations = await runtimesFor(config);
  const byOrg = numbersByOrganisation(
    requests,
    organisations.map((o) => o.organisationId),
  );
  const targets = organisations.filter((o) => byOrg.has(o.organisationId));
  const outcomes = await eachOrganisation(targets, (runtime, organisationId, index) => {
    const { deps, options } = cycleArgs(
      config,
      runtime,
      organisationId,
      context,
      targets.length - index,
      'check',
    );
    return runCheck(deps, options, byOrg.get(organisationId) ?? []);
  });
  const reports: CheckResult['reports'] = [];
  let retry = false;
  for (const outcome of outcomes) {
    if (!outcome.ok) {
      retry = true;
      metrics.addMetric(METRIC.CheckFailed, MetricUnit.Count, 1);
      if (outcome.error instanceof CommitReplayError)
        metrics.addMetric(METRIC.CommitReplayFailed, MetricUnit.Count, 1);
      logger.error(`check failed: ${outcome.error.message}`, { organisationId: outcome.organisationId });
      continue;
    }
    const report = outcome.value;
    reports.push({ organisationId: outcome.organisationId, report });
    // Before the baseline the scheduled cycle sees everything first: nothing to retry.
    if (!report.noBaseline && (report.outcome === 'lease-held' || report.unchecked.length > 0)) retry = true;
    else metrics.addMetric(METRIC.CheckCompleted, MetricUnit.Count, 1);
    metrics.addMetric(METRIC.EventsEmitted, MetricUnit.Count, report.events + report.republished);
    logger.info('check done', {
      organisationId: outcome.organisationId,
      outcome: report.outcome,
      checked: report.checked.length,
      notFound: report.notFound.length,
      events: report.events,
    });
  }
  return {
    batchItemFailures: retry ? event.Records.map((r) => ({ itemIdentifier: r.messageId })) : [],
    reports,
  };
};

export const handler = middy(checkHandler)
  .use(logMetrics(metrics))
  .use(injectLambdaContext(logger, { clearState: true }))
  .use(captureLambdaHandler(tracer));
