/**
 * AWS list prices used by the cost model: us-east-1 (N. Virginia), on-demand, no free tier, in US dollars.
 * Dated: the figures are the public list prices as of the date below; check the pricing pages and update
 * the date with any change. Only this file holds prices.
 */
export const PRICES = {
  date: '2026-11-30',
  region: 'us-east-1',
  lambda: {
    /** arm64 (Graviton), first pricing tier, per GB-second of billed duration. */
    armGbSecond: 0.0000133334,
    /** Per request (invocation): $0.20 per million. */
    request: 0.2 / 1e6,
  },
  dynamodb: {
    /** On-demand, per read request unit (4 KB strongly consistent): $0.125 per million. */
    readRequestUnit: 0.125 / 1e6,
    /** On-demand, per write request unit (1 KB): $0.625 per million. */
    writeRequestUnit: 0.625 / 1e6,
  },
  eventbridge: {
    /** Custom events put with PutEvents, per event (each 64 KB chunk is one event): $1.00 per million. */
    putEventsEntry: 1.0 / 1e6,
  },
  scheduler: {
    /** EventBridge Scheduler, per invocation beyond the free 14 million a month: $1.00 per million. */
    invocation: 1.0 / 1e6,
  },
  secretsManager: {
    /** Per secret per month. */
    secretMonth: 0.4,
    /** Per API call: $0.05 per 10,000. */
    apiCall: 0.05 / 10_000,
  },
  sqs: {
    /** FIFO queue requests, per request (each 64 KB chunk of a payload is one): $0.50 per million. */
    fifoRequest: 0.5 / 1e6,
  },
  cloudwatch: {
    /** Per custom metric per month (first 10,000 metrics). */
    metricMonth: 0.3,
    /** Per standard-resolution alarm metric per month. */
    alarmMonth: 0.1,
    /** Logs ingested (standard log class), per GB. */
    logsIngestedGb: 0.5,
  },
  xray: {
    /** Traces recorded, per trace: $5.00 per million. */
    traceRecorded: 5.0 / 1e6,
  },
} as const;

export type Prices = typeof PRICES;
