/**
 * Values from the API are bounded before they reach snapshots, events or the journal, so that one order
 * with an absurd value (a product name of a megabyte) can never exceed an item or event size limit and
 * stop the account. A cut value ends with TRUNCATION_MARKER.
 */
export const TRUNCATION_MARKER = '…[truncated]';

/** Free text: names, colours. */
export const MAX_TEXT_LENGTH = 500;
/** Identifiers and words: order numbers, statuses, stage names, timestamps. */
export const MAX_WORD_LENGTH = 100;

export const bounded = <T extends string | null>(value: T, max: number = MAX_TEXT_LENGTH): T => {
  if (value === null || value.length <= max) return value;
  let cut = max - TRUNCATION_MARKER.length;
  // Never split a surrogate pair (an emoji, say) in two.
  const last = value.charCodeAt(cut - 1);
  if (last >= 0xd800 && last <= 0xdbff) cut -= 1;
  return `${value.slice(0, cut)}${TRUNCATION_MARKER}` as T;
};
