import type { SimOrder } from './model.js';

let ticketId = 500_000;

/** A receiving-ticket webhook body as Uphance sends it when a delivery of a production order arrives. */
export const receivingTicketWebhook = (order: SimOrder) => ({
  event: 'receiving_ticket_update',
  receiving_ticket: {
    id: ++ticketId,
    production_order_id: order.raw.id,
    production_order_number: String(order.raw.production_order_number),
    status: 'received',
    received_at: new Date().toISOString(),
  },
});

/**
 * Posts the webhook to `url` (the notifier's listener, secret path included) and does not wait for the
 * notifier: like Uphance, a failed delivery is only counted (Uphance would retry it for 48 hours).
 */
export const postWebhook = (url: string, body: unknown, onFailure?: (error: Error) => void): void => {
  fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) })
    .then((response) => {
      if (response.status !== 202) onFailure?.(new Error(`webhook answered ${response.status}`));
      return response.body?.cancel();
    })
    .catch((error: Error) => onFailure?.(error));
};
