import type { NotifierEvent } from './catalogue.js';

/** The shape EventBridge delivers to a target (docs/contract.md section 3). */
export interface EventBridgeEnvelope<D = unknown> {
  version: '0';
  id: string;
  'detail-type': string;
  source: string;
  account: string;
  time: string;
  region: string;
  resources: string[];
  detail: D;
}

export const toEnvelope = (
  event: NotifierEvent,
  options: { source: string; account?: string; region?: string },
): EventBridgeEnvelope<NotifierEvent['detail']> => ({
  version: '0',
  id: event.detail.eventId,
  'detail-type': event.detailType,
  source: options.source,
  account: options.account ?? '000000000000',
  time: `${event.detail.detectedAt.slice(0, 19)}Z`,
  region: options.region ?? 'local',
  resources: [],
  detail: event.detail,
});
