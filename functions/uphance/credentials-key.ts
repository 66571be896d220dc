import { createHash } from 'node:crypto';
import type { Credentials } from './auth.js';

/**
 * What identifies a set of credentials on Uphance's side, where the selected organisation is kept: a
 * static token, or the user of a password grant (each login issues a new token, the selection stays with
 * the user). A hash of it, with the API's origin: it names the credentials' lease (a table key, a file
 * name) without ever revealing the secret.
 */
export const credentialsKey = (apiUrl: string, credentials: Credentials): string => {
  const who =
    credentials.kind === 'token'
      ? `token\n${credentials.token}`
      : `user\n${credentials.email.trim().toLowerCase()}`;
  return createHash('sha256')
    .update(`uphance-notifier credentials\n${new URL(apiUrl).origin}\n${who}`)
    .digest('hex')
    .slice(0, 32);
};
