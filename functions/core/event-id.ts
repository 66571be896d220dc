import { createHash } from 'node:crypto';

/**
 * eventId = hash(order id, sequence, detail-type, the change itself). A re-emission of one detection gives
 * the same id; a value going A→B→A→B gives four ids because the sequence differs each time.
 * Formatted as a UUID-shaped string (RFC 4122 variant bits, version nibble 8 for "custom").
 */
export const eventIdOf = (orderId: number, sequence: number, detailType: string, change: unknown): string => {
  const hex = createHash('sha256')
    .update(JSON.stringify([orderId, sequence, detailType, change]))
    .digest('hex');
  const variant = ((Number.parseInt(hex[16] ?? '0', 16) & 0x3) | 0x8).toString(16);
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-8${hex.slice(13, 16)}-${variant}${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
};
