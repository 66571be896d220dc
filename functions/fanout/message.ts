/**
 * The poll queue's message: one organisation to poll for one scheduled period. The dispatcher writes it,
 * the poll worker reads it back; anything else on the queue is refused.
 */

/** Which credentials of the secret an organisation uses (the registry keeps it). */
export type CredentialsReference =
  /** The secret's top-level credentials. */
  | 'shared'
  /** Its own entry in the secret's `organisations` map (required). */
  | 'own'
  /** Named in the deployment's organisationIds: its own entry when there is one, else the shared ones. */
  | 'auto';

const CREDENTIALS_REFERENCES: readonly CredentialsReference[] = ['shared', 'own', 'auto'];

export interface PollMessage {
  v: 1;
  /** null: no organisation named anywhere (the credentials' own; state under "default"). */
  organisationId: number | null;
  credentials: CredentialsReference;
  /** The period's scheduled time (epoch ms): a cycle started since then has already covered it. */
  scheduledAt: number;
}

/**
 * SQS FIFO deduplication id: one message per organisation and period, so that a repeated dispatch of the
 * same period (the scheduler delivers at least once, a failed dispatch is retried) queues nothing more.
 */
export const deduplicationIdOf = (message: PollMessage): string =>
  `${message.organisationId ?? 'default'}@${message.scheduledAt}`;

export const pollMessageBody = (message: PollMessage): string => JSON.stringify(message);

/** Reads a queue message back; anything that is not a poll message is refused (null). */
export const parsePollMessage = (body: string): PollMessage | null => {
  let value: unknown;
  try {
    value = JSON.parse(body);
  } catch {
    return null;
  }
  if (!value || typeof value !== 'object') return null;
  const { v, organisationId, credentials, scheduledAt } = value as Record<string, unknown>;
  if (v !== 1) return null;
  if (
    organisationId !== null &&
    !(typeof organisationId === 'number' && Number.isSafeInteger(organisationId) && organisationId > 0)
  )
    return null;
  if (!CREDENTIALS_REFERENCES.includes(credentials as CredentialsReference)) return null;
  if (typeof scheduledAt !== 'number' || !Number.isSafeInteger(scheduledAt) || scheduledAt < 0) return null;
  return { v: 1, organisationId, credentials: credentials as CredentialsReference, scheduledAt };
};
