import type { Prices } from './prices.js';
import { PRICES } from './prices.js';

/**
 * What a month of the notifier costs on AWS, from what one poll cycle was measured to do. Pure: feed it
 * new counts (e.g. other read figures for the store) and it prices them; the prices live in prices.ts.
 */

/** What one cycle does, as measured (bench/cycle-worker.ts) or estimated. */
export interface CycleCounts {
  /** Wall time of the cycle: Lambda bills it, waits on Uphance included. */
  wallMs: number;
  /** DynamoDB read request units (RCU consumed). */
  readUnits: number;
  /** DynamoDB write request units (WCU consumed). */
  writeUnits: number;
  /** PutEvents entries (each under 64 KB, so one billed event each). */
  putEventsEntries: number;
}

/** What the stack deploys, independent of the traffic. */
export interface Deployment {
  memoryMb: number;
  /** Poll cycles a month: a 5-minute schedule is 12 × 24 × 30 = 8,640. */
  cyclesPerMonth: number;
  /** GetSecretValue calls per cycle (the handler caches the secret for 5 minutes: about one a cycle). */
  secretCallsPerCycle: number;
  secrets: number;
  customMetrics: number;
  alarms: number;
}

export const FIVE_MINUTE_CYCLES = (60 / 5) * 24 * 30;

/** The default stack: 512 MB arm64 function, one secret, the metrics the handler emits, six alarms (with the webhook queue's). */
export const DEFAULT_DEPLOYMENT: Deployment = {
  memoryMb: 512,
  cyclesPerMonth: FIVE_MINUTE_CYCLES,
  secretCallsPerCycle: 1,
  secrets: 1,
  customMetrics: 19,
  alarms: 6,
};

export interface MonthlyCost {
  lambda: number;
  dynamodb: number;
  putEvents: number;
  scheduler: number;
  secretsManager: number;
  cloudwatch: number;
  total: number;
}

/** Cycles of one kind in a month: e.g. 8,610 ordinary cycles and 30 that also sweep. */
export interface CycleMix {
  cycle: CycleCounts;
  perMonth: number;
}

export const monthlyCost = (
  mix: CycleMix[],
  deployment: Deployment = DEFAULT_DEPLOYMENT,
  prices: Prices = PRICES,
): MonthlyCost => {
  const n = deployment.cyclesPerMonth;
  const sum = (f: (c: CycleCounts) => number) => mix.reduce((acc, m) => acc + m.perMonth * f(m.cycle), 0);
  // Lambda bills each invocation's duration rounded up to the millisecond, times its memory in GB.
  const gbSeconds = sum((c) => Math.ceil(c.wallMs) / 1000) * (deployment.memoryMb / 1024);
  const lambda = gbSeconds * prices.lambda.armGbSecond + n * prices.lambda.request;
  const dynamodb =
    sum((c) => c.readUnits) * prices.dynamodb.readRequestUnit +
    sum((c) => c.writeUnits) * prices.dynamodb.writeRequestUnit;
  const putEvents = sum((c) => c.putEventsEntries) * prices.eventbridge.putEventsEntry;
  const scheduler = n * prices.scheduler.invocation;
  const secretsManager =
    deployment.secrets * prices.secretsManager.secretMonth +
    n * deployment.secretCallsPerCycle * prices.secretsManager.apiCall;
  const cloudwatch =
    deployment.customMetrics * prices.cloudwatch.metricMonth +
    deployment.alarms * prices.cloudwatch.alarmMonth;
  return {
    lambda,
    dynamodb,
    putEvents,
    scheduler,
    secretsManager,
    cloudwatch,
    total: lambda + dynamodb + putEvents + scheduler + secretsManager + cloudwatch,
  };
};

/** The notifier's month: every cycle like the measured one with 1% changed, one a day also sweeping. */
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

/** A Markdown table: one row per account size, a column per service. */
export const costTable = (rows: Array<{ label: string; cost: MonthlyCost }>): string => {
  const header = [
    'orders',
    'Lambda',
    'DynamoDB',
    'PutEvents',
    'Scheduler',
    'Secrets Manager',
    'CloudWatch',
    'month',
  ];
  const lines = rows.map(({ label, cost }) => [
    label,
    usd(cost.lambda),
    usd(cost.dynamodb),
    usd(cost.putEvents),
    usd(cost.scheduler),
    usd(cost.secretsManager),
    usd(cost.cloudwatch),
    `**${usd(cost.total)}**`,
  ]);
  return [header, header.map(() => '---'), ...lines].map((r) => `| ${r.join(' | ')} |`).join('\n');
};
