import type { DetailType } from '../functions/core/events/catalogue.js';
import { DETAIL_TYPES } from '../functions/core/events/catalogue.js';
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
  const webhookUrl = text('slackWebhookUrl');
  if (webhookUrl && !/^https:\/\//.test(webhookUrl))
    throw new Error('context slackWebhookUrl must be an https URL');
  const addresses = list('emailAddresses');
  return {
    scheduleMinutes: number('scheduleMinutes'),
    archiveRetentionDays: number('archiveRetentionDays'),
    uphanceSecretArn: text('uphanceSecretArn'),
    uphanceApiUrl: text('uphanceApiUrl'),
    organisationId: text('organisationId'),
    eventSource: text('eventSource'),
    sweepIntervalHours: number('sweepIntervalHours'),
    emitBaseline: flag('emitBaseline'),
    slack: webhookUrl
      ? { webhookUrl, detailTypes: types('slackDetailTypes'), stageNames: list('slackStageNames') }
      : undefined,
    email: addresses.length
      ? { addresses, detailTypes: types('emailDetailTypes'), stageNames: list('emailStageNames') }
      : undefined,
    alarmEmail: text('alarmEmail'),
    heartbeatIntervals: number('heartbeatIntervals'),
    exampleConsumer: flag('exampleConsumer'),
    retainData: flag('retainData'),
    digestHour: number('digestHour'),
    digestTimeZone: text('digestTimeZone'),
    digestWhenEmpty: flag('digestWhenEmpty'),
  };
};
