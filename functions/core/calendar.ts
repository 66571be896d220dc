/**
 * Calendar days in an IANA time zone, with Intl only (no dependency). A "day number" is the count of days
 * since 1970-01-01 of the local calendar date, so that the difference of two is a whole number of days
 * whatever the offsets and daylight-saving shifts in between.
 */

const DAY_MS = 86_400_000;
const formats = new Map<string, Intl.DateTimeFormat>();

const formatFor = (timeZone: string): Intl.DateTimeFormat => {
  let format = formats.get(timeZone);
  if (!format) {
    format = new Intl.DateTimeFormat('en-US', {
      timeZone,
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
    });
    formats.set(timeZone, format);
  }
  return format;
};

/** Whether Intl knows this IANA zone name. */
export const isTimeZone = (timeZone: string): boolean => {
  try {
    formatFor(timeZone);
    return true;
  } catch {
    return false;
  }
};

/** The local wall-clock fields of an instant, as if they were UTC (for offset arithmetic). */
const wallClockAsUtc = (ms: number, timeZone: string): number => {
  const parts: Record<string, number> = {};
  for (const part of formatFor(timeZone).formatToParts(ms)) {
    if (part.type !== 'literal') parts[part.type] = Number(part.value);
  }
  return Date.UTC(
    parts.year ?? 1970,
    (parts.month ?? 1) - 1,
    parts.day ?? 1,
    parts.hour ?? 0,
    parts.minute ?? 0,
    parts.second ?? 0,
  );
};

/**
 * Offsets change only at transitions, which fall on quarter hours in UTC (offsets are multiples of 15
 * minutes), so one offset per zone and quarter hour is exact. Intl is slow (microseconds a call) and the
 * diff runs for every order of every cycle: the cache makes it a map lookup.
 */
const QUARTER_MS = 900_000;
const offsets = new Map<string, Map<number, number>>();

const offsetAt = (ms: number, timeZone: string): number => {
  let zone = offsets.get(timeZone);
  if (!zone) {
    zone = new Map();
    offsets.set(timeZone, zone);
  }
  const quarter = Math.floor(ms / QUARTER_MS);
  let offset = zone.get(quarter);
  if (offset === undefined) {
    if (zone.size > 50_000) zone.clear();
    const start = quarter * QUARTER_MS;
    offset = wallClockAsUtc(start, timeZone) - start;
    zone.set(quarter, offset);
  }
  return offset;
};

/** The local calendar date of an instant, as a day number. */
export const dayNumber = (ms: number, timeZone: string): number =>
  timeZone === 'UTC' ? Math.floor(ms / DAY_MS) : Math.floor((ms + offsetAt(ms, timeZone)) / DAY_MS);

const ISO_DAY = /^(\d{4})-(\d{2})-(\d{2})$/;

/** The day number of an ISO date (YYYY-MM-DD); null for anything else. */
export const dayOfIsoDate = (date: string | null): number | null => {
  const match = date === null ? null : ISO_DAY.exec(date);
  if (!match) return null;
  const ms = Date.UTC(Number(match[1]), Number(match[2]) - 1, Number(match[3]));
  return Number.isNaN(ms) ? null : ms / DAY_MS;
};

/** The ISO date (YYYY-MM-DD) of a day number. */
export const isoDateOfDay = (day: number): string => new Date(day * DAY_MS).toISOString().slice(0, 10);

/** The first instant of a local calendar day (midnight, or the first valid time after a DST gap). */
export const startOfDay = (day: number, timeZone: string): number => {
  const wall = day * DAY_MS;
  // Two passes settle the offset, also across a daylight-saving change on that day.
  let guess = wall - (wallClockAsUtc(wall, timeZone) - wall);
  guess = wall - (wallClockAsUtc(guess, timeZone) - guess);
  // A DST gap at midnight: the local day then starts later than the computed instant's day.
  while (dayNumber(guess, timeZone) < day) guess += 3_600_000;
  while (dayNumber(guess - 1, timeZone) >= day) guess -= 3_600_000;
  return guess;
};
