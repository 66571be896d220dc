import { describe, expect, it } from 'vitest';
import { ConfigError, credentialsFromSecret, uphanceSettings } from '../../functions/config.js';

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
