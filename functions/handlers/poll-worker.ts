import { MetricUnit } from '@aws-lambda-powertools/metrics';
import { SQSClient } from '@aws-sdk/client-sqs';
import type { Context, SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import { emptyDynamoStats } from '../adapters/dynamodb/stats.js';
import { DynamoRegistry } from '../adapters/dynamodb-registry.js';
import { SqsPollQueue } from '../adapters/sqs-poll-queue.js';
import { CommitReplayError } from '../cycle/commit.js';
import type { CycleReport } from '../cycle/cycle.js';
import { runCycle } from '../cycle/cycle.js';
import { LeaseLostError } from '../cycle/errors.js';
import type { PollMessage } from '../fanout/message.js';
import { parsePollMessage } from '../fanout/message.js';
import { isCovered } from '../fanout/plan.js';
import { awsClient } from '../runtime/clients.js';
import type { LambdaConfig } from '../runtime/lambda-config.js';
import { cycleLambda } from '../runtime/lambda-runtimes.js';
import { lambdaHandler } from '../runtime/powertools.js';
import type { Runtime } from '../runtime/runtime.js';
import { METRIC, ORGANISATION_DIMENSION } from '../telemetry.js';

const { logger, metrics, tracer, configured, cycleArgs, dynamodb, runtimeFor } = cycleLambda();
const sqs = tracer.captureAWSv3Client(awsClient(SQSClient));

/** A message whose organisation's lease is held comes back this soon (not after the visibility timeout). */
const LEASE_HELD_RETRY_SECONDS = 30;

interface Counters {
  requests: number;
  retries: number;
  failedEntries: number;
  entries: number;
  writes: number;
  readUnits: number;
  writeUnits: number;
}

const countersOf = (runtime: Runtime, registry: DynamoRegistry): Counters => {
  const store = runtime.usage.store ?? emptyDynamoStats();
  const sink = runtime.usage.sink ?? { entries: 0, failedEntries: 0 };
  return {
    requests: runtime.apiStats.requests,
    retries: runtime.apiStats.retries,
    failedEntries: sink.failedEntries,
    entries: sink.entries,
    writes: store.writes,
    readUnits: store.readCapacity + registry.stats.readCapacity,
    writeUnits: store.writeCapacity + registry.stats.writeCapacity,
  };
};

/** What one message cost: Uphance requests, DynamoDB units (cycle and run record), PutEvents entries. */
interface Usage {
  apiCalls: number;
  readUnits: number;
  writeUnits: number;
  putEventsEntries: number;
}

const usageOf = (before: Counters, after: Counters): Usage => ({
  apiCalls: after.requests - before.requests,
  readUnits: after.readUnits - before.readUnits,
  writeUnits: after.writeUnits - before.writeUnits,
  putEventsEntries: after.entries - before.entries,
});

const count = (name: string, value = 1) => metrics.addMetric(name, MetricUnit.Count, value);

const recordMetrics = (report: CycleReport, before: Counters, after: Counters) => {
  if (report.outcome === 'lease-held') {
    count(METRIC.LeaseHeld);
    return;
  }
  if (report.tookOverFrom) count(METRIC.LeaseTakenOver);
  // A cycle the deadline cut did not complete: the heartbeat alarm must see a function that never does.
  if (report.outcome === 'deadline') count(METRIC.CycleDeadlineReached);
  else count(METRIC.CycleCompleted);
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
  if (report.outcome === 'budget-exhausted') count(METRIC.CycleBudgetExhausted);
};

/**
 * A failure, counted twice: without the organisation (the alarms' metric) and with it (drill-down). Only
 * a failing organisation gets a metric of its own, so a thousand healthy ones add nothing to the bill.
 */
const recordFailure = (cause: Error, organisationId: number | null) => {
  count(METRIC.CycleFailed);
  if (organisationId !== null) {
    const single = metrics.singleMetric();
    single.addDimension(ORGANISATION_DIMENSION, String(organisationId));
    single.addMetric(METRIC.CycleFailed, MetricUnit.Count, 1);
  }
  if (cause instanceof LeaseLostError) count(METRIC.LeaseLost);
  if (cause instanceof CommitReplayError) count(METRIC.CommitReplayFailed);
  // Events set aside before the failure are counted: later cycles will not see them again.
  const partial = (cause as { cycleReport?: CycleReport }).cycleReport;
  if (partial?.setAside) count(METRIC.EventsSetAside, partial.setAside);
  logger.error(`cycle failed: ${cause.message}`, {
    cause: cause.name,
    ...(organisationId === null ? {} : { organisationId }),
  });
};

interface MessageResult {
  messageId: string;
  organisationId: number | null;
  /**
   * `superseded`: a cycle started since the period began; `removed`: the organisation was removed since;
   * `refused`: not a poll message.
   */
  outcome: CycleReport['outcome'] | 'failed' | 'superseded' | 'removed' | 'refused';
  report?: CycleReport;
  error?: string;
  usage?: Usage;
}

export interface PollWorkerResult extends SQSBatchResponse {
  results: MessageResult[];
}

/** One message: one organisation's cycle, unless a cycle started since its period already covered it. */
const pollOne = async (
  config: LambdaConfig,
  record: SQSRecord,
  message: PollMessage,
  context: Context,
  registry: DynamoRegistry,
): Promise<MessageResult> => {
  const { organisationId } = message;
  const base = { messageId: record.messageId, organisationId };
  const scope = organisationId === null ? {} : { organisationId };
  const run = await registry.run(organisationId).catch((error: Error) => {
    logger.warn(`could not read the organisation's run record; polling anyway: ${error.message}`, scope);
    return undefined;
  });
  if (isCovered(run, message.scheduledAt)) {
    count(METRIC.PollMessagesSuperseded);
    logger.info('superseded: a cycle started since this period began', {
      ...scope,
      scheduledAt: new Date(message.scheduledAt).toISOString(),
    });
    return { ...base, outcome: 'superseded' };
  }
  // Removed since its message was queued (a backlog in its group): not polled again.
  if (organisationId !== null) {
    const entry = await registry.entry(organisationId).catch(() => undefined);
    if (entry?.removed) {
      logger.info('removed from the registry since this message was queued: not polled', scope);
      return { ...base, outcome: 'removed' };
    }
  }
  const startedAt = Date.now();
  const finish = (outcome: 'completed' | 'budget-exhausted' | 'deadline' | 'failed', error?: string) =>
    registry
      .recordRun(organisationId, { startedAt, finishedAt: Date.now(), outcome, error })
      .catch((cause: Error) => logger.warn(`could not record the cycle: ${cause.message}`, scope));
  let before: Counters | undefined;
  let runtime: Runtime | undefined;
  try {
    const organisation = await runtimeFor(config, organisationId, message.credentials);
    if (!organisation.runtime) throw organisation.error ?? new Error('no runtime');
    runtime = organisation.runtime;
    // A warm worker runs many organisations, some on the same credentials: select this one again.
    runtime.client.reselectOrganisation();
    before = countersOf(runtime, registry);
    const { deps, options } = cycleArgs(config, runtime, organisationId ?? undefined, context, 1);
    const report = await runCycle(deps, options);
    const after = countersOf(runtime, registry);
    recordMetrics(report, before, after);
    logger.info('cycle done', { ...report, ...scope });
    if (report.outcome !== 'lease-held') await finish(report.outcome);
    return {
      ...base,
      outcome: report.outcome,
      report,
      usage: usageOf(before, countersOf(runtime, registry)),
    };
  } catch (error) {
    const cause = error as Error;
    if (runtime && before)
      count(METRIC.PutEventsFailures, countersOf(runtime, registry).failedEntries - before.failedEntries);
    recordFailure(cause, organisationId);
    await finish('failed', cause.message);
    return {
      ...base,
      outcome: 'failed',
      error: cause.message,
      ...(runtime && before ? { usage: usageOf(before, countersOf(runtime, registry)) } : {}),
    };
  }
};

/**
 * The poll worker: each queue message (batch size 1) is one organisation's cycle for one period, with
 * the invocation's whole time. A failure is reported (metrics, log naming the organisation, its run
 * record) and the message consumed: the next period tries again. A message whose organisation's lease is
 * held (another runner, or its credentials in use by another organisation's run) goes back to the queue
 * and returns in LEASE_HELD_RETRY_SECONDS, never lost (after the queue's receive limit, the dead-letter
 * queue and its alarm).
 */
const pollWorkerHandler = async (event: SQSEvent, context: Context): Promise<PollWorkerResult> => {
  if ('error' in configured) {
    recordFailure(configured.error, null);
    throw configured.error;
  }
  const { config } = configured;
  const registry = new DynamoRegistry({ client: dynamodb, tableName: config.tableName });
  const queue = config.pollQueueUrl
    ? new SqsPollQueue({ client: sqs, queueUrl: config.pollQueueUrl })
    : undefined;
  const results: MessageResult[] = [];
  const batchItemFailures: SQSBatchResponse['batchItemFailures'] = [];
  for (const record of event.Records) {
    const message = parsePollMessage(record.body);
    if (!message) {
      logger.warn('dropping a queue message that is not a poll message', { messageId: record.messageId });
      results.push({ messageId: record.messageId, organisationId: null, outcome: 'refused' });
      continue;
    }
    const result = await pollOne(config, record, message, context, registry);
    results.push(result);
    if (result.outcome === 'lease-held') {
      batchItemFailures.push({ itemIdentifier: record.messageId });
      await queue?.retryAfter(record.receiptHandle, LEASE_HELD_RETRY_SECONDS).catch((error: Error) =>
        logger.warn(`could not shorten the message's visibility: ${error.message}`, {
          messageId: record.messageId,
        }),
      );
    }
  }
  return { batchItemFailures, results };
};

export const handler = lambdaHandler(pollWorkerHandler, { logger, metrics, tracer, coldStartMetric: true });
