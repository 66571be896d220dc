/**
 * The one place for the service name, the metrics namespace and the metric names, shared by the Lambda
 * handlers (which emit them) and the stack (whose alarms and dashboard read them).
 */
export const SERVICE_NAME = 'uphance-notifier';
export const METRICS_NAMESPACE = 'UphanceNotifier';

export const METRIC = {
  CycleCompleted: 'CycleCompleted',
  CycleFailed: 'CycleFailed',
  CycleBudgetExhausted: 'CycleBudgetExhausted',
  CycleDeadlineReached: 'CycleDeadlineReached',
  CycleDuration: 'CycleDuration',
  /** Another runner held the lease: this run skipped (normal when runs overlap). */
  LeaseHeld: 'LeaseHeld',
  /** This run lost its lease mid-cycle: another runner took over (its writes were refused). */
  LeaseLost: 'LeaseLost',
  LeaseTakenOver: 'LeaseTakenOver',
  OrdersScanned: 'OrdersScanned',
  OrdersChanged: 'OrdersChanged',
  OrdersTooLarge: 'OrdersTooLarge',
  MalformedOrders: 'MalformedOrders',
  EventsEmitted: 'EventsEmitted',
  EventsSetAside: 'EventsSetAside',
  ApiCalls: 'ApiCalls',
  ApiRetries: 'ApiRetries',
  PutEventsFailures: 'PutEventsFailures',
  DynamoDbWrites: 'DynamoDbWrites',
  /** The scheduled digest: sent, skipped (nothing to say), or failed. */
  DigestSent: 'DigestSent',
  DigestSkipped: 'DigestSkipped',
  DigestFailed: 'DigestFailed',
} as const;

export type MetricName = (typeof METRIC)[keyof typeof METRIC];
