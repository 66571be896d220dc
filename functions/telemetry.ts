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
  /** A sealed commit could not be replayed: it stays in the journal, and its organisation's cycles fail until it goes through. */
  CommitReplayFailed: 'CommitReplayFailed',
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
  /** Webhook endpoint: an order was queued for a check / a well-formed event named none. */
  WebhookAccepted: 'WebhookAccepted',
  WebhookIgnored: 'WebhookIgnored',
  /** Webhook endpoint: 404, 405, 413, 400 (bad input, answered and dropped). */
  WebhookRejected: 'WebhookRejected',
  WebhookRateLimited: 'WebhookRateLimited',
  /** Check consumer: targeted checks done / failed (their messages go back to the queue). */
  CheckCompleted: 'CheckCompleted',
  CheckFailed: 'CheckFailed',
  /** The scheduled digest: sent, skipped (nothing to say), or failed. */
  DigestSent: 'DigestSent',
  DigestSkipped: 'DigestSkipped',
  DigestFailed: 'DigestFailed',
  /** Poll worker: a queued period that a cycle started since had already covered (dropped, not run). */
  PollMessagesSuperseded: 'PollMessagesSuperseded',
  /** Dispatcher, each period: organisations queued, those whose last cycle failed, those gone silent. */
  OrganisationsDispatched: 'OrganisationsDispatched',
  OrganisationsFailing: 'OrganisationsFailing',
  OrganisationsStale: 'OrganisationsStale',
} as const;

/** The dimension that carries the organisation on per-organisation metrics (beside `service`). */
export const ORGANISATION_DIMENSION = 'organisation';
