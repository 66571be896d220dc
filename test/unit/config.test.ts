import { describe, expect, it } from 'vitest';
import { credentialsFromSecret } from '../../functions/fanout/credentials.js';
import { ConfigError, signalSettings, uphanceSettings } from '../../functions/runtime/config.js';

describe('configuration', () => {
  it('reads the Uphance settings and names a bad one', () => {
    expect(uphanceSettings({ UPHANCE_TOKEN: ' t ' })).toMatchObject({
      apiUrl: 'https://api.uphance.com',
      credentials: { kind: 'token', token: 't' },
    });
    expect(
      uphanceSettings({ UPHANCE_EMAIL: 'a@b.c', UPHANCE_PASSWORD: 'p', UPHANCE_ORGANISATION_ID: '35802' }),
    ).toMatchObject({
      credentials: { kind: 'password', email: 'a@b.c' },
      organisationId: 35802,
    });
    expect(() => uphanceSettings({ UPHANCE_ORGANISATION_ID: 'acme' })).toThrow(
      /UPHANCE_ORGANISATION_ID must be a numeric/,
    );
    expect(() => uphanceSettings({ UPHANCE_PASSWORD: 'p' })).toThrow(/UPHANCE_EMAIL must be set together/);
    expect(() => uphanceSettings({ UPHANCE_API_URL: 'ftp://x' })).toThrow(ConfigError);
  });

  it('refuses an http API URL unless its host is loopback, since the token would travel in clear text', () => {
    for (const url of ['http://api.uphance.com', 'http://10.0.0.5:4010', 'http://127.evil.example']) {
      expect(() => uphanceSettings({ UPHANCE_API_URL: url, UPHANCE_TOKEN: 'secret-token' })).toThrow(
        /UPHANCE_API_URL must use https/,
      );
      expect(() => uphanceSettings({ UPHANCE_API_URL: url, UPHANCE_TOKEN: 'secret-token' })).not.toThrow(
        /secret-token/,
      );
    }
    for (const url of [
      'http://127.0.0.1:4010',
      'http://localhost:4010',
      'http://[::1]:4010',
      'https://x.example',
    ]) {
      expect(uphanceSettings({ UPHANCE_API_URL: url }).apiUrl).toBe(url);
    }
  });

  it('takes credentials from the secret in any of its forms, and says what to do with an empty one', () => {
    expect(credentialsFromSecret('{"token":"abc"}', 'S')).toEqual({ kind: 'token', token: 'abc' });
    expect(credentialsFromSecret({ email: 'a@b.c', password: 'p' }, 'S')).toEqual({
      kind: 'password',
      email: 'a@b.c',
      password: 'p',
    });
    expect(credentialsFromSecret('plain-token', 'S')).toEqual({ kind: 'token', token: 'plain-token' });
    // The stack creates the secret with an empty token until the user puts the real value.
    expect(() => credentialsFromSecret('{"token":"","unset":"x7Yq"}', 'S')).toThrow(
      /S holds no usable Uphance credentials/,
    );
    expect(() => credentialsFromSecret('{"token":"","unset":"x7Yq"}', 'S')).not.toThrow(/x7Yq/);
  });
});

describe('production signal settings (docs/contract.md sections 1b and 1c)', () => {
  it('defaults to UTC, 7, 7 and 1; reads the environment; a flag wins over it', () => {
    expect(signalSettings({})).toEqual({
      timeZone: 'UTC',
      dueSoonDays: 7,
      stallDays: 7,
      stallDaysByStage: {},
      riskDays: 1,
    });
    const env = {
      TIME_ZONE: 'Europe/London',
      DUE_SOON_DAYS: '3',
      STALL_DAYS: '0',
      STALL_DAYS_BY_STAGE: 'Sewing=14, Hand Finishing=3',
      RISK_DAYS: '0',
    };
    expect(signalSettings(env)).toEqual({
      timeZone: 'Europe/London',
      dueSoonDays: 3,
      stallDays: 0,
      stallDaysByStage: { Sewing: 14, 'Hand Finishing': 3 },
      riskDays: 0,
    });
    expect(
      signalSettings(env, {
        timeZone: 'Asia/Kolkata',
        dueSoonDays: '5',
        stallDaysByStage: 'Packing=2',
        riskDays: '3',
      }),
    ).toEqual({
      timeZone: 'Asia/Kolkata',
      dueSoonDays: 5,
      stallDays: 0,
      stallDaysByStage: { Packing: 2 },
      riskDays: 3,
    });
  });

  it.each([
    [{ TIME_ZONE: 'Mars/Olympus' }, {}, /TIME_ZONE must be an IANA time zone/],
    [{}, { timeZone: 'CEST+2' }, /--time-zone must be an IANA time zone/],
    [{ DUE_SOON_DAYS: '-1' }, {}, /DUE_SOON_DAYS must be a whole number of days/],
    [{ DUE_SOON_DAYS: '3' }, { dueSoonDays: 'soon' }, /--due-soon-days must be a whole number/],
    [{ STALL_DAYS: '1.5' }, {}, /STALL_DAYS must be a whole number/],
    [{ STALL_DAYS_BY_STAGE: 'Sewing' }, {}, /STALL_DAYS_BY_STAGE must read like "Sewing=14,Packing=3"/],
    [{}, { stallDaysByStage: 'Sewing=two' }, /--stall-days-by-stage \(Sewing\) must be a whole number/],
    [{ RISK_DAYS: 'soon' }, {}, /RISK_DAYS must be a whole number of days/],
    [{ RISK_DAYS: '1' }, { riskDays: '-2' }, /--risk-days must be a whole number of days/],
  ])('%o %o is a configuration error naming the setting', (env, flags, message) => {
    expect(() => signalSettings(env, flags)).toThrow(ConfigError);
    expect(() => signalSettings(env, flags)).toThrow(message);
  });
});
