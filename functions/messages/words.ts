/** The small words of every message: vocabulary as people read it, counts, item names, times. */

const WORDS: Record<string, string> = {
  not_received: 'not received',
  receiving: 'partly received',
  all_received: 'all received',
  not_started: 'not started',
  in_progress: 'in progress',
};

/** A vocabulary word as people read it ("all_received" → "all received"). */
export const readable = (word: string | null | undefined): string =>
  word === null || word === undefined || word === '' ? 'none' : (WORDS[word] ?? word.replaceAll('_', ' '));

/** "1 day", "3 days". */
export const plural = (count: number, unit: string) => `${count} ${unit}${count === 1 ? '' : 's'}`;

/** "12 days", "1.5 days". */
export const days = (value: number) => `${value} ${value === 1 ? 'day' : 'days'}`;

/** A line item by its product and colour, else by its id. */
export const itemName = (item: { productName: string | null; color: string | null; id: number }): string =>
  [item.productName, item.color].filter(Boolean).join(' ') || `line item ${item.id}`;

/** The day part of an API timestamp, keeping its own offset ("2025-04-26T05:51:21+01:00" → "2025-04-26 05:51"). */
export const shortTime = (value: string | null): string | null =>
  value === null ? null : value.replace(/^(\d{4}-\d{2}-\d{2})T(\d{2}:\d{2}).*$/, '$1 $2');
