/** Parses an API timestamp (any offset, or Z) to epoch ms; null when absent or unparseable. */
export const instant = (value: string | null | undefined): number | null => {
  if (!value) return null;
  const ms = Date.parse(value);
  return Number.isNaN(ms) ? null : ms;
};

const ISO_DATE = /^(\d{4})-(\d{2})-(\d{2})/;
const DMY_DATE = /^(\d{2})\/(\d{2})\/(\d{4})$/;

/**
 * Due dates are reported as ISO dates (YYYY-MM-DD). The API's format for due_date is not documented:
 * accept an ISO date or datetime (keep its calendar date, not shifted to UTC) or DD/MM/YYYY.
 * Anything else is passed through unchanged rather than dropped.
 */
export const isoDate = (value: string | null | undefined): string | null => {
  if (value === null || value === undefined || value.trim() === '') return null;
  const iso = ISO_DATE.exec(value);
  if (iso) return `${iso[1]}-${iso[2]}-${iso[3]}`;
  const dmy = DMY_DATE.exec(value.trim());
  if (dmy) return `${dmy[3]}-${dmy[2]}-${dmy[1]}`;
  return value;
};
