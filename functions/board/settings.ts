import { ConfigError } from '../config.js';

/**
 * The production-signal settings of docs/contract.md section 1b (same names and meaning as the signals' settings), so that
 * the board and the digest call an order due soon, overdue or stalled exactly when the events do.
 */
export interface BoardSettings {
  /** IANA time zone in which calendar days are counted. */
  timeZone: string;
  /** Due soon when the due date is at most this many days away (0: never). */
  dueSoonDays: number;
  /** Stalled when a stage has been in progress for more days than this (0: never). */
  stallDays: number;
  /** Per stage name, overrides stallDays. */
  stallDaysByStage: Record<string, number>;
}

export const DEFAULT_BOARD_SETTINGS: BoardSettings = Object.freeze({
  timeZone: 'UTC',
  dueSoonDays: 7,
  stallDays: 7,
  stallDaysByStage: Object.freeze({}) as Record<string, number>,
});

export interface SettingFlags {
  timeZone?: string;
  dueSoonDays?: string;
  stallDays?: string;
  stallDaysByStage?: string;
}

const wholeDays = (value: string, name: string): number => {
  if (!/^\d+$/.test(value.trim()))
    throw new ConfigError(`${name} must be a whole number of days, got "${value}"`);
  return Number(value.trim());
};

const isTimeZone = (zone: string): boolean => {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: zone });
    return true;
  } catch {
    return false;
  }
};

/** TIME_ZONE, DUE_SOON_DAYS, STALL_DAYS, STALL_DAYS_BY_STAGE from the environment, a flag winning. */
export const boardSettings = (
  env: Record<string, string | undefined>,
  flags: SettingFlags = {},
): BoardSettings => {
  const pick = (flag: string | undefined, name: string) => (flag ?? env[name])?.trim() || undefined;
  const timeZone = pick(flags.timeZone, 'TIME_ZONE') ?? 'UTC';
  if (!isTimeZone(timeZone)) throw new ConfigError(`TIME_ZONE: unknown time zone "${timeZone}"`);
  const dueSoon = pick(flags.dueSoonDays, 'DUE_SOON_DAYS');
  const stall = pick(flags.stallDays, 'STALL_DAYS');
  const byStage: Record<string, number> = {};
  for (const pair of (pick(flags.stallDaysByStage, 'STALL_DAYS_BY_STAGE') ?? '').split(',')) {
    if (pair.trim() === '') continue;
    const at = pair.lastIndexOf('=');
    const name = pair.slice(0, at).trim();
    if (at < 0 || name === '')
      throw new ConfigError(`STALL_DAYS_BY_STAGE: expected "Stage=days,...", got "${pair.trim()}"`);
    byStage[name] = wholeDays(pair.slice(at + 1), `STALL_DAYS_BY_STAGE (${name})`);
  }
  return {
    timeZone,
    dueSoonDays: dueSoon === undefined ? 7 : wholeDays(dueSoon, 'DUE_SOON_DAYS'),
    stallDays: stall === undefined ? 7 : wholeDays(stall, 'STALL_DAYS'),
    stallDaysByStage: byStage,
  };
};
