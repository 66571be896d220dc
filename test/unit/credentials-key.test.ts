import { describe, expect, it } from 'vitest';
import { credentialsKey } from '../../functions/uphance/credentials-key.js';

describe('the key of a set of credentials', () => {
  const token = { kind: 'token', token: 'tok-SECRET-123' } as const;
  const user = { kind: 'password', email: 'Ops@Brand.example', password: 'hunter2-SECRET' } as const;

  it('names the credentials without revealing them', () => {
    for (const key of [
      credentialsKey('https://api.uphance.com', token),
      credentialsKey('https://api.uphance.com', user),
    ]) {
      expect(key).toMatch(/^[0-9a-f]{32}$/);
      expect(key).not.toContain('SECRET');
    }
  });

  it('is the same for the same token or the same user (any password, any case), whatever the path', () => {
    expect(credentialsKey('https://api.uphance.com', token)).toBe(
      credentialsKey('https://api.uphance.com/', token),
    );
    expect(credentialsKey('https://api.uphance.com', user)).toBe(
      credentialsKey('https://api.uphance.com', { ...user, email: ' ops@brand.example ', password: 'other' }),
    );
  });

  it('differs between tokens, users, a token and a user, and APIs', () => {
    const keys = new Set([
      credentialsKey('https://api.uphance.com', token),
      credentialsKey('https://api.uphance.com', { kind: 'token', token: 'tok-other' }),
      credentialsKey('https://api.uphance.com', user),
      credentialsKey('https://api.uphance.com', { ...user, email: 'buyer@brand.example' }),
      credentialsKey('http://127.0.0.1:4010', token),
    ]);
    expect(keys.size).toBe(5);
  });
});
