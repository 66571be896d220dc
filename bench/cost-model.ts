import type { Prices } from './prices.js';
import { PRICES } from './prices.js';

/**
 * What a month of the notifier costs on AWS, from what one organisation's poll cycle and one dispatch were
 * measured to do. Pure: feed it new counts and it prices them; the prices live in prices.ts.
 */

/** What one organisation's cycle (one poll worker invocation) does, as measured or estimated. */
export interface CycleCounts {
  /** Wall time of the cycle: Lambda bills it, waits on Uphance included. */
  wallMs: number;
  /** DynamoDB read request units (RCU consumed), the run record's included. */
  readUnits: number;
  /** DynamoDB write request units (WCU consumed), the run record's included. */
  writeUnits: number;
  /** PutEvents entries (each under 64 KB, so one billed event each). */
  putEventsEntries: number;
  /** Bytes of log written (Powertools logs and metrics; Lambda adds LAMBDA_LOG_BYTES). Default 0. */
  logBytes?: number;
}

/** What one dispatch (one period, every organisation queued) does. */
export interface DispatchCounts {
  wallMs: number;
  readUnits: number;
  writeUnits: number;
  logBytes: number;
}

/** The poll worker's run record: a strongly consistent read and a write per message. */
export const WORKER_RUN_RECORD = { readUnits: 1, writeUnits: 1 };

/** What the poll worker logs for an ordinary cycle (Powertools lines and metrics; bench:fanout measured). */
export const WORKER_LOG_BYTES = 1_460;

/** Lambda's own lines per invocation (START, END, REPORT, with X-Ray's ids), beside the function's. */
export const LAMBDA_LOG_BYTES = 350;

/**
 * A dispatch of `organisations`, from bench:fanout's measurements (200 organisations in 149–232 ms and 5.5
 * read units, 1.4 KB of log): its time (SendMessageBatch calls, ten organisations each) and the registry's reads
 * grow with the organisations; it writes only for organisations queued the first time, none in an
 * ordinary period.
 */
const dispatchEstimate = (organisations: number): DispatchCounts => ({
  wallMs: 40 + 0.96 * organisations,
  readUnits: 0.5 + 0.025 * organisations,
  writeUnits: 0,
  logBytes: 1_440,
});

/** What the stack deploys, independent of the traffic. */
export interface Deployment {
  /** The poll worker's memory; the dispatcher's is dispatcherMemoryMb. */
  memoryMb: number;
  dispatcherMemoryMb: number;
  /** Periods a month: a 5-minute schedule is 12 × 24 × 30 = 8,640. */
  cyclesPerMonth: number;
  /** Poll workers at most at once: each warm one reads the secret once per 5 minutes (its cache). */
  workerConcurrency: number;
  /** Lambda's SQS pollers long-polling the queue (20 s each) whether or not there is a message. */
  idlePollers: number;
  secrets: number;
  /** Custom metrics without the organisation dimension (those the handlers emit). */
  customMetrics: number;
  alarms: number;
}

export const FIVE_MINUTE_CYCLES = (60 / 5) * 24 * 30;
const SECONDS_A_MONTH = 30 * 24 * 3600;

/**
 * The default stack: a 512 MB arm64 worker (at most 10 at once) and a 256 MB dispatcher, one secret, the
 * metrics the handlers emit, eleven alarms whatever the number of organisations.
 */
export const DEFAULT_DEPLOYMENT: Deployment = {
  memoryMb: 512,
  dispatcherMemoryMb: 256,
  cyclesPerMonth: FIVE_MINUTE_CYCLES,
  workerConcurrency: 10,
  idlePollers: 5,
  secrets: 1,
  customMetrics: 23,
  alarms: 11,
};

export interface MonthlyCost {
  lambda: number;
  dynamodb: number;
  putEvents: number;
  sqs: number;
  scheduler: number;
  secretsManager: number;
  cloudwatch: number;
  xray: number;
  total: number;
}

/** Cycles of one kind in a month, per organisation: e.g. 8,610 ordinary cycles and 30 that also sweep. */
export interface CycleMix {
  cycle: CycleCounts;
  perMonth: number;
}

export interface Fleet {
  /** Organisations polled, each running the mix (default 1). */
  organisations?: number;
  /** One dispatch (default dispatchEstimate(organisations)). */
  dispatch?: DispatchCounts;
  /** Organisations failing all month: each has a CycleFailed metric of its own (default 0). */
  failingOrganisations?: number;
}

/**
 * X-Ray's default sampling rule: the first request each second and 5% of the others, with the month's
 * invocations spread evenly (an estimate: they come in bursts at each period's start, which samples fewer).
 */
const tracesRecorded = (invocations: number): number => {
  const perSecond = invocations / SECONDS_A_MONTH;
  return SECONDS_A_MONTH * (Math.min(1, perSecond) + 0.05 * Math.max(0, perSecond - 1));
};

export const monthlyCost = (
  mix: CycleMix[],
  deployment: Deployment = DEFAULT_DEPLOYMENT,
  prices: Prices = PRICES,
  fleet: Fleet = {},
): MonthlyCost => {
  const organisations = fleet.organisations ?? 1;
  const dispatch = fleet.dispatch ?? dispatchEstimate(organisations);
  const periods = deployment.cyclesPerMonth;
  const sum = (f: (c: CycleCounts) => number) =>
    organisations * mix.reduce((acc, m) => acc + m.perMonth * f(m.cycle), 0);
  const cycles = organisations * mix.reduce((acc, m) => acc + m.perMonth, 0);
  // Lambda bills each invocation's duration rounded up to the millisecond, times its memory in GB.
  const gbSeconds =
    sum((c) => Math.ceil(c.wallMs) / 1000) * (deployment.memoryMb / 1024) +
    periods * (Math.ceil(dispatch.wallMs) / 1000) * (deployment.dispatcherMemoryMb / 1024);
  const lambda = gbSeconds * prices.lambda.armGbSecond + (cycles + periods) * prices.lambda.request;
  const dynamodb =
    (sum((c) => c.readUnits) + periods * dispatch.readUnits) * prices.dynamodb.readRequestUnit +
    (sum((c) => c.writeUnits) + periods * dispatch.writeUnits) * prices.dynamodb.writeRequestUnit;
  const putEvents = sum((c) => c.putEventsEntries) * prices.eventbridge.putEventsEntry;
  // Each period: SendMessageBatch ten a call; each message received and deleted by the event source;
  // and the event source's pollers long-polling all month.
  const idleReceives = deployment.idlePollers * (SECONDS_A_MONTH / 20);
  const sqsRequests = periods * Math.ceil(organisations / 10) + cycles * 2 + idleReceives;
  const sqs = sqsRequests * prices.sqs.fifoRequest;
  const scheduler = periods * prices.scheduler.invocation;
  // The dispatcher once a period; each warm worker once per 5-minute cache period.
  const secretCalls = periods * (1 + Math.min(organisations, deployment.workerConcurrency));
  const secretsManager =
    deployment.secrets * prices.secretsManager.secretMonth + secretCalls * prices.secretsManager.apiCall;
  const logBytes =
    sum((c) => (c.logBytes ?? 0) + LAMBDA_LOG_BYTES) + periods * (dispatch.logBytes + LAMBDA_LOG_BYTES);
  const cloudwatch =
    (deployment.customMetrics + (fleet.failingOrganisations ?? 0)) * prices.cloudwatch.metricMonth +
    deployment.alarms * prices.cloudwatch.alarmMonth +
    (logBytes / 1e9) * prices.cloudwatch.logsIngestedGb;
  const xray = tracesRecorded(cycles + periods) * prices.xray.traceRecorded;
  return {
    lambda,
    dynamodb,
    putEvents,
    sqs,
    scheduler,
    secretsManager,
    cloudwatch,
    xray,
    total: lambda + dynamodb + putEvents + sqs + scheduler + secretsManager + cloudwatch + xray,
  };
};

/** An organisation's month: every cycle like the measured one with 1% changed, one a day also sweeping. */
export const notifierMonth = (
  changed: CycleCounts,
  sweep: CycleCounts,
  deployment = DEFAULT_DEPLOYMENT,
): CycleMix[] => [
  { cycle: changed, perMonth: deployment.cyclesPerMonth - 30 },
  { cycle: sweep, perMonth: 30 },
];

/** A naive poller's month: every cycle reads every page and writes every order (the baseline's work). */
export const naiveMonth = (everyPageEveryOrder: CycleCounts, deployment = DEFAULT_DEPLOYMENT): CycleMix[] => [
  { cycle: everyPageEveryOrder, perMonth: deployment.cyclesPerMonth },
];

const usd = (value: number) => (value < 0.01 && value > 0 ? `$${value.toFixed(4)}` : `$${value.toFixed(2)}`);

/** A Markdown table: one row per label (an account size, a number of organisations), a column per service. */
export const costTable = (rows: Array<{ label: string; cost: MonthlyCost }>, first = 'orders'): string => {
  const header = [
    first,
    'Lambda',
    'DynamoDB',
    'PutEvents',
    'SQS',
    'Scheduler',
    'Secrets Manager',
    'CloudWatch',
    'X-Ray',
    'month',
  ];
  const lines = rows.map(({ label, cost }) => [
    label,
    usd(cost.lambda),
    usd(cost.dynamodb),
    usd(cost.putEvents),
    usd(cost.sqs),
    usd(cost.scheduler),
    usd(cost.secretsManager),
    usd(cost.cloudwatch),
    usd(cost.xray),
    `**${usd(cost.total)}**`,
  ]);
  return [header, header.map(() => '---'), ...lines].map((r) => `| ${r.join(' | ')} |`).join('\n');
};
