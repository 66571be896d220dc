import { isTimeZone } from '../core/calendar.js';
import type { SignalSettings } from '../core/signals.js';
import { DEFAULT_SIGNAL_SETTINGS } from '../core/signals.js';
import { ConfigError } from '../shared/config-error.js';
import type { Credentials } from '../uphance/auth.js';
import { DEFAULT_API_URL } from '../uphance/client.js';

export { ConfigError };

export interface UphanceSettings {
  apiUrl: string;
  credentials: Credentials | undefined;
  /** The first (or only) organisation of `organisationIds`. */
  organisationId: number | undefined;
  /** Every organisation to poll, in order (UPHANCE_ORGANISATION_ID="35802,35803"); empty: the token's own. */
  organisationIds: number[];
}

type Env = Record<string, string | undefined>;

const present = (env: Env, name: string): string | undefined => {
  const value = env[name];
  return value === undefined || value.trim() === '' ? undefined : value.trim();
};

export const positiveInteger = (env: Env, name: string, fallback: number): number => {
  const raw = present(env, name);
  if (raw === undefined) return fallback;
  if (!/^\d+$/.test(raw) || Number(raw) <= 0) {
    throw new ConfigError(`${name} must be a positive whole number, got "${raw.slice(0, 40)}"`);
  }
  return Number(raw);
};

/** The production signals' settings as given: a command-line flag, else the environment variable. */
export interface SignalFlags {
  timeZone?: string;
  dueSoonDays?: string;
  stallDays?: string;
  stallDaysByStage?: string;
  riskDays?: string;
}

const wholeDays = (raw: string, name: string): number => {
  if (!/^\d+$/.test(raw) || Number(raw) > 3650) {
    throw new ConfigError(
      `${name} must be a whole number of days (0 turns it off), got "${raw.slice(0, 40)}"`,
    );
  }
  return Number(raw);
};

/** Parses "Sewing=14,Packing=3" (stage names as Uphance spells them). */
const daysByStage = (raw: string, name: string): Record<string, number> => {
  const limits: Record<string, number> = {};
  for (const entry of raw
    .split(',')
    .map((e) => e.trim())
    .filter(Boolean)) {
    const at = entry.lastIndexOf('=');
    const stage = entry.slice(0, Math.max(0, at)).trim();
    if (at < 0 || stage === '') {
      throw new ConfigError(`${name} must read like "Sewing=14,Packing=3", got "${entry.slice(0, 40)}"`);
    }
    limits[stage] = wholeDays(entry.slice(at + 1).trim(), `${name} (${stage.slice(0, 40)})`);
  }
  return limits;
};

/**
 * Reads the production signals' settings of docs/contract.md sections 1b and 1c: TIME_ZONE, DUE_SOON_DAYS,
 * STALL_DAYS, STALL_DAYS_BY_STAGE and RISK_DAYS, each overridden by its flag when given. A bad value names the
 * flag or variable.
 */
export const signalSettings = (env: Env, flags: SignalFlags = {}): SignalSettings => {
  const pick = (flag: string | undefined, flagName: string, envName: string) => {
    if (flag !== undefined) return { raw: flag.trim(), name: flagName };
    const raw = present(env, envName);
    return raw === undefined ? undefined : { raw, name: envName };
  };
  const zone = pick(flags.timeZone, '--time-zone', 'TIME_ZONE');
  if (zone && !isTimeZone(zone.raw)) {
    throw new ConfigError(
      `${zone.name} must be an IANA time zone such as Europe/London, got "${zone.raw.slice(0, 40)}"`,
    );
  }
  const soon = pick(flags.dueSoonDays, '--due-soon-days', 'DUE_SOON_DAYS');
  const stall = pick(flags.stallDays, '--stall-days', 'STALL_DAYS');
  const byStage = pick(flags.stallDaysByStage, '--stall-days-by-stage', 'STALL_DAYS_BY_STAGE');
  const risk = pick(flags.riskDays, '--risk-days', 'RISK_DAYS');
  return {
    timeZone: zone?.raw ?? DEFAULT_SIGNAL_SETTINGS.timeZone,
    dueSoonDays: soon ? wholeDays(soon.raw, soon.name) : DEFAULT_SIGNAL_SETTINGS.dueSoonDays,
    stallDays: stall ? wholeDays(stall.raw, stall.name) : DEFAULT_SIGNAL_SETTINGS.stallDays,
    stallDaysByStage: byStage ? daysByStage(byStage.raw, byStage.name) : {},
    riskDays: risk ? wholeDays(risk.raw, risk.name) : DEFAULT_SIGNAL_SETTINGS.riskDays,
  };
};

/** localhost, 127.0.0.0/8 and ::1: names and addresses that never leave this machine. */
const isLoopback = (hostname: string): boolean =>
  hostname === 'localhost' ||
  hostname.endsWith('.localhost') ||
  /^127(\.\d{1,3}){3}$/.test(hostname) ||
  hostname === '[::1]' ||
  hostname === '::1';

/** Reads the Uphance settings of docs/contract.md section 3. Credentials may be absent (the caller decides). */
export const uphanceSettings = (env: Env): UphanceSettings => {
  const apiUrl = present(env, 'UPHANCE_API_URL') ?? DEFAULT_API_URL;
  let url: URL;
  try {
    url = new URL(apiUrl);
  } catch {
    throw new ConfigError(`UPHANCE_API_URL must be an absolute http(s) URL, got "${apiUrl.slice(0, 80)}"`);
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    throw new ConfigError(`UPHANCE_API_URL must use http or https, got "${url.protocol}"`);
  }
  // Plain http would send the token in clear text: only a server on this machine (the simulator) may use it.
  if (url.protocol === 'http:' && !isLoopback(url.hostname)) {
    throw new ConfigError(
      `UPHANCE_API_URL must use https (http only for a loopback host such as 127.0.0.1 or localhost), got host "${url.hostname.slice(0, 80)}"`,
    );
  }
  const token = present(env, 'UPHANCE_TOKEN');
  const email = present(env, 'UPHANCE_EMAIL');
  const password = env.UPHANCE_PASSWORD === '' ? undefined : env.UPHANCE_PASSWORD;
  let credentials: Credentials | undefined;
  if (token) credentials = { kind: 'token', token };
  else if (email && password) credentials = { kind: 'password', email, password };
  else if (email) throw new ConfigError('UPHANCE_PASSWORD must be set together with UPHANCE_EMAIL');
  else if (password) throw new ConfigError('UPHANCE_EMAIL must be set together with UPHANCE_PASSWORD');
  const organisationIds = parseOrganisationIds(present(env, 'UPHANCE_ORGANISATION_ID'));
  return {
    apiUrl: url.toString().replace(/\/$/, ''),
    credentials,
    organisationId: organisationIds[0],
    organisationIds,
  };
};

/** "35802" or "35802,35803": numeric ids, no repeats; a bad value names the setting. */
export const parseOrganisationIds = (raw: string | undefined, name = 'UPHANCE_ORGANISATION_ID'): number[] => {
  if (raw === undefined || raw.trim() === '') return [];
  const ids = raw.split(',').map((part) => part.trim());
  for (const id of ids) {
    if (!/^\d+$/.test(id)) {
      throw new ConfigError(
        `${name} must be a numeric organisation id, or several comma-separated, got "${raw.slice(0, 80)}"`,
      );
    }
  }
  const numbers = ids.map(Number);
  if (new Set(numbers).size !== numbers.length) {
    throw new ConfigError(`${name} names an organisation twice: "${raw.slice(0, 80)}"`);
  }
  return numbers;
};

export const requireCredentials = (settings: UphanceSettings): Credentials => {
  if (!settings.credentials) {
    throw new ConfigError('no Uphance credentials: set UPHANCE_TOKEN, or UPHANCE_EMAIL and UPHANCE_PASSWORD');
  }
  return settings.credentials;
};
