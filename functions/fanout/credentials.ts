import { createHash } from 'node:crypto';
import { ConfigError, credentialsForOrganisation, credentialsFromSecret } from '../runtime/config.js';
import type { Credentials } from '../uphance/auth.js';
import type { CredentialsReference } from './message.js';

const parsed = (secret: unknown): unknown => {
  if (typeof secret !== 'string') return secret;
  try {
    return JSON.parse(secret);
  } catch {
    return secret;
  }
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
