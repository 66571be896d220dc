import type { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { GetSecretValueCommand, PutSecretValueCommand } from '@aws-sdk/client-secrets-manager';
import { ConfigError } from '../shared/config-error.js';
import type { Credentials } from '../uphance/auth.js';

const read = async (client: SecretsManagerClient, secretId: string): Promise<Record<string, unknown>> => {
  let text: string | undefined;
  try {
    text = (await client.send(new GetSecretValueCommand({ SecretId: secretId }))).SecretString;
  } catch (error) {
    if ((error as Error).name === 'ResourceNotFoundException')
      throw new ConfigError(
        `the secret ${secretId} was not found (give the stack's UphanceSecretArn output, in its region)`,
      );
    throw error;
  }
  if (text === undefined) throw new ConfigError(`the secret ${secretId} holds no text value`);
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    // A plain string secret is the shared token itself: kept as such, under "token".
    return text.trim() === '' ? {} : { token: text.trim() };
  }
  if (!value || typeof value !== 'object' || Array.isArray(value))
    throw new ConfigError(`the secret ${secretId} holds JSON that is not an object: fix it by hand first`);
  return value as Record<string, unknown>;
};

/**
 * Writes (or, without credentials, deletes) one organisation's own credentials in the credentials secret's
 * `organisations` map, keeping every other entry. Read, then PutSecretValue: two of these at once could
 * lose one, so run them one after the other. Returns whether the secret changed.
 */
export const setOrganisationCredentials = async (
  client: SecretsManagerClient,
  secretId: string,
  organisationId: number,
  credentials: Credentials | undefined,
): Promise<boolean> => {
  const value = await read(client, secretId);
  const existing = value.organisations;
  if (existing !== undefined && (!existing || typeof existing !== 'object' || Array.isArray(existing)))
    throw new ConfigError(`the secret ${secretId} has an "organisations" entry that is not an object`);
  const organisations = { ...((existing as Record<string, unknown> | undefined) ?? {}) };
  const key = String(organisationId);
  if (credentials) {
    organisations[key] =
      credentials.kind === 'token'
        ? { token: credentials.token }
        : { email: credentials.email, password: credentials.password };
  } else {
    if (!(key in organisations)) return false;
    delete organisations[key];
  }
  await client.send(
    new PutSecretValueCommand({
      SecretId: secretId,
      SecretString: JSON.stringify({ ...value, organisations }),
    }),
  );
  return true;
};
