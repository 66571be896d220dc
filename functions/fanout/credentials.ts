import { createHash } from 'node:crypto';
import { ConfigError } from '../shared/config-error.js';
import type { Credentials } from '../uphance/auth.js';
import type { CredentialsReference } from './message.js';

const credentialsIn = (value: unknown): Credentials | undefined => {
  if (!value || typeof value !== 'object') return undefined;
  const v = value as Record<string, unknown>;
  if (typeof v.token === 'string' && v.token.trim() !== '') return { kind: 'token', token: v.token.trim() };
  if (typeof v.email === 'string' && typeof v.password === 'string' && v.email && v.password) {
    return { kind: 'password', email: v.email, password: v.password };
  }
  return undefined;
};

/** A secret's value as JSON when it is, else as it is (a plain token). */
const parsed = (secret: unknown): unknown => {
  if (typeof secret !== 'string') return secret;
  try {
    return JSON.parse(secret);
  } catch {
    return secret;
  }
};

/**
 * Credentials of one organisation from the secret: its own entry in {"organisations": {"35802": {...}}}
 * when there is one, else the shared {"token"} or {"email","password"} at the top level.
 */
export const credentialsForOrganisation = (
  secret: unknown,
  secretName: string,
  organisationId: number | undefined,
): Credentials => {
  const value = parsed(secret);
  if (organisationId !== undefined && value && typeof value === 'object') {
    const byOrg = (value as { organisations?: unknown }).organisations;
    if (byOrg && typeof byOrg === 'object') {
      const own = credentialsIn((byOrg as Record<string, unknown>)[String(organisationId)]);
      if (own) return own;
    }
  }
  try {
    return credentialsFromSecret(value, secretName);
  } catch (error) {
    if (organisationId === undefined) throw error;
    throw new ConfigError(
      `the secret ${secretName} holds no usable Uphance credentials for organisation ${organisationId}: put {"token": "..."} (shared) or {"organisations": {"${organisationId}": {"token": "..."}}} into it`,
    );
  }
};

/** Credentials from a Secrets Manager secret's JSON: {"token"} or {"email","password"}. */
export const credentialsFromSecret = (secret: unknown, secretName: string): Credentials => {
  const value = parsed(secret);
  // A plain string secret is the token itself.
  if (typeof value === 'string' && value.trim() !== '') return { kind: 'token', token: value.trim() };
  const found = credentialsIn(value);
  if (found) return found;
  throw new ConfigError(
    `the secret ${secretName} holds no usable Uphance credentials: put JSON {"token": "..."} or {"email": "...", "password": "..."} into it (aws secretsmanager put-secret-value)`,
  );
};

/**
 * One organisation's credentials from the credentials secret, as its registry entry says: the shared ones
 * (top level), its own (the `organisations` map, required), or, for an organisation named in the
 * deployment's organisationIds, its own when the map has them, else the shared ones.
 */
export const credentialsByReference = (
  secret: unknown,
  secretName: string,
  organisationId: number | null,
  reference: CredentialsReference,
): Credentials => {
  if (reference === 'auto' || organisationId === null)
    return credentialsForOrganisation(secret, secretName, organisationId ?? undefined);
  const value = parsed(secret);
  if (reference === 'shared') {
    try {
      return credentialsFromSecret(value, secretName);
    } catch {
      throw new ConfigError(
        `organisation ${organisationId} uses the shared credentials, and the secret ${secretName} holds none: put {"token": "..."} (or {"email": "...", "password": "..."}) at its top level`,
      );
    }
  }
  const map =
    value && typeof value === 'object' ? (value as { organisations?: unknown }).organisations : undefined;
  try {
    // Only the map: an organisation registered with its own credentials never falls back to the shared ones.
    return credentialsForOrganisation({ organisations: map }, secretName, organisationId);
  } catch {
    throw new ConfigError(
      `organisation ${organisationId} is registered with its own credentials, and the secret ${secretName} holds none for it: add it again with UPHANCE_TOKEN (or UPHANCE_EMAIL and UPHANCE_PASSWORD) set, or put {"organisations": {"${organisationId}": {"token": "..."}}} into the secret`,
    );
  }
};

/**
 * The poll queue's message group of a set of credentials: organisations on the same credentials share a
 * group, so SQS hands out one of them at a time (Uphance keeps the selected organisation with the
 * credentials). A one-way hash: the group id, visible in SQS, reveals nothing of a token; for a password
 * grant the user is what Uphance keeps the selection with, so the email alone identifies the credentials.
 */
export const credentialsGroup = (credentials: Credentials): string => {
  const identity =
    credentials.kind === 'token'
      ? `token\u0000${credentials.token}`
      : `user\u0000${credentials.email.toLowerCase()}`;
  return `cred-${createHash('sha256').update(identity).digest('hex').slice(0, 32)}`;
};
