import { MetricUnit } from '@aws-lambda-powertools/metrics';
import { SQSClient } from '@aws-sdk/client-sqs';
import type { Context, SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import { SqsCheckQueue } from '../adapters/sqs-check-queue.js';
import { CommitReplayError } from '../cycle/commit.js';
import type { CycleReport } from '../cycle/cycle.js';
import { LeaseLostError } from '../cycle/errors.js';
import type { CheckReport } from '../cycle/targeted.js';
import { runCheck } from '../cycle/targeted.js';
import { awsClient } from '../runtime/clients.js';
import type { LambdaConfig } from '../runtime/lambda-config.js';
import { checkQueueUrl } from '../runtime/lambda-config.js';
import { cycleLambda } from '../runtime/lambda-runtimes.js';
import type { OrganisationRuntime } from '../runtime/organisations.js';
import { eachOrganisation } from '../runtime/organisations.js';
import { lambdaHandler } from '../runtime/powertools.js';
import { METRIC, ORGANISATION_DIMENSION } from '../telemetry.js';
import type { QueuedRecord } from '../webhook/batch.js';
import { batchItemFailures, planChecks } from '../webhook/batch.js';
import { checkMessage, groupOf, parseCheckMessage } from '../webhook/message.js';
import { RecentChecks } from '../webhook/recent-checks.js';

const { logger, metrics, tracer, configured, cycleArgs, runtimesFor } = cycleLambda();
const sqs = tracer.captureAWSv3Client(awsClient(SQSClient));
const checkQueue = (queueUrl: string) => new SqsCheckQueue(sqs, queueUrl);
/** Kept across warm invocations: a ticket a completed check already covers costs no look-up. */
const recent = new RecentChecks();

export interface CheckResult extends SQSBatchResponse {
  reports: Array<{ organisationId: number | undefined; report: CheckReport }>;
}

const count = (name: string, value = 1) => metrics.addMetric(name, MetricUnit.Count, value);

/** Per-organisation metrics (dimension `organisation`, beside `service`): one EMF record each. */
const organisationMetric = (organisationId: number | undefined, name: string) => {
  if (organisationId === undefined) return;
  const single = metrics.singleMetric();
  single.addDimension(ORGANISATION_DIMENSION, String(organisationId));
  single.addMetric(name, MetricUnit.Count, 1);
};

/** A check that could not finish: counted (as the poll function counts a failed cycle) and logged. */
const fail = (cause: Error, organisationId: number | undefined) => {
  count(METRIC.CheckFailed);
  organisationMetric(organisationId, METRIC.CheckFailed);
  if (cause instanceof LeaseLostError) count(METRIC.LeaseLost);
  if (cause instanceof CommitReplayError) count(METRIC.CommitReplayFailed);
  // Events set aside before the failure are counted: no later run sees them again.
  const partial = (cause as { cycleReport?: CycleReport }).cycleReport;
  if (partial?.setAside) count(METRIC.EventsSetAside, partial.setAside);
  logger.error(`check failed: ${cause.message}`, {
    cause: cause.name,
    ...(organisationId === undefined ? {} : { organisationId }),
  });
};

const recordOf = (record: SQSRecord): QueuedRecord | null => {
  const check = parseCheckMessage(record.body);
  if (!check) return null;
  const sent = Number(record.attributes?.SentTimestamp);
  return {
    id: record.messageId,
    group: record.attributes?.MessageGroupId ?? groupOf(check.organisationId),
    // A message of an older version carries no ticket time: its send time (later) stands for it.
    check: check.at !== undefined || !Number.isSafeInteger(sent) ? check : { ...check, at: sent },
  };
};

/**
 * Sends each message naming no organisation again, once per organisation, into that organisation's group
 * (10 a call; repeats within a slot are dropped by SQS, so a retried fan-out queues nothing twice).
 * Returns the ids of the messages not wholly sent: they go back to the queue.
 */
const fanOut = async (
  records: readonly QueuedRecord[],
  organisationIds: readonly number[],
  queueUrl: string,
): Promise<Set<string>> => {
  const failed = new Set<string>();
  const entries = records.flatMap((record) =>
    organisationIds.map((organisationId) => ({
      source: record.id,
      message: checkMessage({ number: record.check.number, organisationId }, record.check.at ?? Date.now()),
    })),
  );
  const unsent = await checkQueue(queueUrl).sendAll(
    entries.map((entry) => entry.message),
    (error) => logger.error(`could not fan checks out to the organisations: ${error.message}`),
  );
  for (const position of unsent) {
    const entry = entries[position];
    if (entry) failed.add(entry.source);
  }
  if (entries.length > 0)
    logger.info('checks fanned out', { messages: records.length, organisations: organisationIds.length });
  return failed;
};

/**
 * The check consumer. Each message names an order and its organisation (FIFO group per organisation);
 * a message naming none is checked in the only organisation, or with several fanned out to each one's
 * group. Each organisation's orders are checked through the cycle's lease and commit path; the partial
 * batch response names only the messages whose organisation could not finish (its lease was held by a
 * scheduled cycle, it failed, the time ran out), so a broken organisation holds back its own group and
 * no other. A repeated check costs a look-up and emits nothing twice; one a completed check already
 * covers costs nothing. Messages that are not checks, or name an organisation that is not one of the
 * deployment's (deploymentOrganisations: the seed and the registry), are dropped.
 */
export const checkHandler = async (event: SQSEvent, context: Context): Promise<CheckResult> => {
  let config: LambdaConfig;
  let queueUrl: string;
  let organisations: OrganisationRuntime[];
  try {
    if ('error' in configured) throw configured.error;
    config = configured.config;
    queueUrl = checkQueueUrl(process.env);
    organisations = await runtimesFor(config);
  } catch (error) {
    // Nothing could run: the whole batch goes back.
    fail(error as Error, undefined);
    throw error;
  }
  const records: QueuedRecord[] = [];
  for (const record of event.Records) {
    const queued = recordOf(record);
    if (queued) records.push(queued);
    else logger.warn('dropping a queue message that is not a check', { messageId: record.messageId });
  }
  const organisationIds = organisations.map((o) => o.organisationId);
  const plan = planChecks(records, organisationIds);
  for (const record of plan.unknown) {
    logger.warn('dropping a check for an organisation that is not configured', {
      messageId: record.id,
      organisationId: record.check.organisationId,
    });
  }
  const failed = await fanOut(
    plan.fanOut,
    organisationIds.filter((id) => id !== undefined),
    queueUrl,
  );

  // Per organisation, the numbers whose tickets no completed check covers yet.
  const pending = new Map<number | undefined, string[]>();
  for (const [organisationId, list] of plan.byOrganisation) {
    const numbers = list
      .filter((r) => !recent.covers(organisationId, r.check.number, r.check.at))
      .map((r) => r.check.number);
    if (numbers.length > 0) pending.set(organisationId, [...new Set(numbers)]);
  }
  const targets = organisations.filter((o) => pending.has(o.organisationId));
  const outcomes = await eachOrganisation(targets, async (runtime, organisationId, index) => {
    const { deps, options } = cycleArgs(
      config,
      runtime,
      organisationId,
      context,
      targets.length - index,
      'check',
    );
    const startedAt = deps.now();
    return { startedAt, report: await runCheck(deps, options, pending.get(organisationId) ?? []) };
  });

  const reports: CheckResult['reports'] = [];
  for (const outcome of outcomes) {
    const { organisationId } = outcome;
    const handBack = (numbers?: readonly string[]) => {
      for (const record of plan.byOrganisation.get(organisationId) ?? [])
        if (!numbers || numbers.includes(record.check.number)) failed.add(record.id);
    };
    if (!outcome.ok) {
      fail(outcome.error, organisationId);
      handBack();
      continue;
    }
    const { report, startedAt } = outcome.value;
    reports.push({ organisationId, report });
    count(METRIC.EventsEmitted, report.events + report.republished);
    count(METRIC.EventsSetAside, report.setAside);
    if (report.noBaseline) {
      // Before the baseline the scheduled cycle sees everything first: nothing to retry.
      count(METRIC.CheckCompleted);
    } else if (report.outcome === 'lease-held') {
      count(METRIC.LeaseHeld);
      handBack();
    } else {
      if (report.outcome === 'completed') {
        for (const number of report.checked) recent.record(organisationId, number, startedAt);
      }
      if (report.unchecked.length > 0) handBack(report.unchecked);
      else {
        // Without the organisation: a metric of its own for each healthy organisation would cost a
        // thousand metrics at a thousand organisations (only a failing one gets one).
        count(METRIC.CheckCompleted);
      }
    }
    logger.info('check done', {
      ...(organisationId === undefined ? {} : { organisationId }),
      outcome: report.outcome,
      checked: report.checked.length,
      notFound: report.notFound.length,
      events: report.events,
      setAside: report.setAside,
    });
  }
  return { batchItemFailures: batchItemFailures(records, failed), reports };
};

export const handler = lambdaHandler(checkHandler, { logger, metrics, tracer });
