import type { DetailType } from '../functions/core/events/catalogue.js';
import { DETAIL_TYPES } from '../functions/core/events/catalogue.js';
import type { ChannelName } from '../functions/messages/channels.js';
import { ConfigError, signalSettings } from '../functions/runtime/config.js';
import type { NotifierStackProps } from './notifier-stack.js';

/** Reads the stack's settings from CDK context (`cdk deploy -c key=value`), naming any bad value. */
export const propsFromContext = (get: (key: string) => unknown): NotifierStackProps => {
  const text = (key: string): string | undefined => {
    const value = get(key);
    if (value === undefined || value === null || value === '') return undefined;
    return String(value);
  };
  const list = (key: string): string[] =>
    (text(key) ?? '')
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean);
  const number = (key: string): number | undefined => {
    const value = text(key);
    if (value === undefined) return undefined;
    if (!/^\d+$/.test(value)) throw new Error(`context ${key} must be a whole number, got "${value}"`);
    return Number(value);
  };
  const flag = (key: string): boolean | undefined => {
    const value = text(key);
    if (value === undefined) return undefined;
    if (value !== 'true' && value !== 'false')
      throw new Error(`context ${key} must be true or false, got "${value}"`);
    return value === 'true';
  };
  const types = (key: string): DetailType[] => {
    const values = list(key);
    for (const value of values) {
      if (!DETAIL_TYPES.includes(value as DetailType)) {
        throw new Error(`context ${key}: unknown detail-type "${value}" (one of ${DETAIL_TYPES.join(', ')})`);
      }
    }
    return values as DetailType[];
  };
  /** A channel's subscription filter: `<channel>DetailTypes` and `<channel>StageNames`. */
  const filter = (channel: ChannelName) => ({
    detailTypes: types(`${channel}DetailTypes`),
    stageNames: list(`${channel}StageNames`),
  });
  const organisations = (value: string | undefined): string | undefined => {
    if (value === undefined) return undefined;
    const ids = value.split(',').map((id) => id.trim());
    if (ids.some((id) => !/^\d+$/.test(id)) || new Set(ids).size !== ids.length) {
      throw new Error(
        `context organisationIds must be distinct numeric ids, comma-separated, got "${value}"`,
      );
    }
    return ids.join(',');
  };
  const webhookUrl = text('slackWebhookUrl');
  if (webhookUrl && !/^https:\/\//.test(webhookUrl))
    throw new Error('context slackWebhookUrl must be an https URL');
  const webhookSecretArn = text('slackWebhookSecretArn');
  const slack = Boolean(webhookUrl || webhookSecretArn || flag('slack'));
  // The signal settings are checked as the poll function will check them, naming the context key.
  const signalContext = (key: string, variable: string): string | undefined => {
    const value = text(key);
    if (value === undefined) return undefined;
    try {
      signalSettings({ [variable]: value });
    } catch (error) {
      if (error instanceof ConfigError) throw new Error(`context ${key}: ${error.message}`);
      throw error;
    }
    return value;
  };
  const timeZone = signalContext('timeZone', 'TIME_ZONE');
  const dueSoonDays = signalContext('dueSoonDays', 'DUE_SOON_DAYS');
  const stallDays = signalContext('stallDays', 'STALL_DAYS');
  const stallDaysByStage = signalContext('stallDaysByStage', 'STALL_DAYS_BY_STAGE');
  const riskDays = signalContext('riskDays', 'RISK_DAYS');
  const addresses = list('emailAddresses');
  return {
    scheduleMinutes: number('scheduleMinutes'),
    archiveRetentionDays: number('archiveRetentionDays'),
    uphanceSecretArn: text('uphanceSecretArn'),
    uphanceSecretKmsKeyArn: text('uphanceSecretKmsKeyArn'),
    uphanceApiUrl: text('uphanceApiUrl'),
    organisationIds: organisations(text('organisationIds') ?? text('organisationId')),
    workerConcurrency: number('workerConcurrency'),
    webhook: flag('webhook'),
    eventSource: text('eventSource'),
    sweepIntervalHours: number('sweepIntervalHours'),
    emitBaseline: flag('emitBaseline'),
    slack: slack ? { webhookUrl, webhookSecretArn, ...filter('slack') } : undefined,
    email: addresses.length ? { addresses, ...filter('email') } : undefined,
    alarmEmail: text('alarmEmail'),
    signals: {
      timeZone,
      dueSoonDays: dueSoonDays === undefined ? undefined : Number(dueSoonDays),
      stallDays: stallDays === undefined ? undefined : Number(stallDays),
      stallDaysByStage,
      riskDays: riskDays === undefined ? undefined : Number(riskDays),
    },
    heartbeatIntervals: number('heartbeatIntervals'),
    exampleConsumer: flag('exampleConsumer'),
    retainData: flag('retainData'),
    digestHour: number('digestHour'),
    digestTimeZone: text('digestTimeZone'),
    digestWhenEmpty: flag('digestWhenEmpty'),
  };
};
