import { createHash, timingSafeEqual } from 'node:crypto';

/**
 * The webhook trigger's intake (docs/contract.md section 3, "Webhook trigger"), shared by the command line's
 * listener and the Lambda endpoint: pure, no I/O. It never logs and never returns the path (it holds the
 * secret).
 */
const WEBHOOK_PATH_PREFIX = '/webhooks/uphance/';
export const MAX_WEBHOOK_BODY_BYTES = 1_048_576;
const MIN_WEBHOOK_SECRET_LENGTH = 16;
/** Longest order number taken from a webhook (anything longer is not an Uphance order number). */
const MAX_NUMBER_LENGTH = 64;

export interface WebhookRequest {
  method: string;
  /** The URL path, without the query string. */
  path: string;
  /** The raw body, or `tooLarge` when the reader stopped past MAX_WEBHOOK_BODY_BYTES. */
  body: string | { tooLarge: true };
  /** `organisation` from the query string, if any (one webhook URL per organisation). */
  organisation?: string | null;
}

/** What to check: an order number, in one organisation or (unset) in each configured one. */
export interface CheckRequest {
  number: string;
  organisationId?: number;
}

type WebhookStatus = 202 | 400 | 404 | 405 | 413 | 429;

export interface WebhookAnswer {
  status: WebhookStatus;
  /** Short, fixed words: never an echo of the input. */
  body: { status: string };
  /** With 202: the order to check, or null when the event names none (acknowledged and ignored). */
  check: CheckRequest | null;
  /** For logs and metrics: why (a fixed word). */
  reason:
    | 'accepted'
    | 'ignored'
    | 'wrong-secret'
    | 'method'
    | 'too-large'
    | 'not-json-object'
    | 'rate-limited'
    | 'unknown-organisation';
}

const digest = (value: string): Buffer => createHash('sha256').update(value, 'utf8').digest();

/** Compares a candidate with the secret in constant time (equal-length digests, timingSafeEqual). */
export const secretMatches = (candidate: string, secret: string): boolean =>
  timingSafeEqual(digest(candidate), digest(secret));

const answer = (
  status: WebhookStatus,
  reason: WebhookAnswer['reason'],
  check: CheckRequest | null = null,
): WebhookAnswer => ({
  status,
  reason,
  check,
  body: {
    status:
      status === 202
        ? 'accepted'
        : status === 404
          ? 'not found'
          : status === 405
            ? 'method not allowed'
            : status === 413
              ? 'payload too large'
              : status === 429
                ? 'too many requests'
                : 'bad request',
  },
});

/** The order number a receiving-ticket event names, or null. Numbers may come as JSON numbers. */
export const orderNumberOf = (event: Record<string, unknown>): string | null => {
  const kind = event.event;
  if (typeof kind !== 'string' || !kind.startsWith('receiving_ticket')) return null;
  const ticket = event.receiving_ticket;
  if (!ticket || typeof ticket !== 'object' || Array.isArray(ticket)) return null;
  const raw = (ticket as Record<string, unknown>).production_order_number;
  const number = typeof raw === 'number' && Number.isFinite(raw) ? String(raw) : raw;
  if (typeof number !== 'string') return null;
  const trimmed = number.trim();
  if (
    trimmed === '' ||
    trimmed.length > MAX_NUMBER_LENGTH ||
    [...trimmed].some((c) => c.charCodeAt(0) < 0x20)
  )
    return null;
  return trimmed;
};

/**
 * The organisations a webhook may name with `?organisation=`: a list (the command line knows its own), or
 * `any` (the Lambda endpoint: the check function, which knows the organisations, drops an unknown one).
 */
export type KnownOrganisations = readonly number[] | 'any';

/**
 * Judges what comes before the body: 404 for a wrong or missing secret (first: nothing else is revealed,
 * and a request without the secret never spends the limit that Uphance's webhooks share), 429 when
 * `admit` refuses (that limit), 405 for a method other than POST. Null: read the body, then judgeBody.
 */
export const judgeHead = (
  method: string,
  path: string,
  secret: string,
  admit: () => boolean = () => true,
): WebhookAnswer | null => {
  const candidate = path.startsWith(WEBHOOK_PATH_PREFIX) ? path.slice(WEBHOOK_PATH_PREFIX.length) : null;
  // Both sides hashed first: the comparison takes the same time whatever the candidate's length.
  const matches = secretMatches(candidate ?? '', secret);
  if (candidate === null || candidate === '' || !matches) return answer(404, 'wrong-secret');
  if (!admit()) return answer(429, 'rate-limited');
  if (method.toUpperCase() !== 'POST') return answer(405, 'method');
  return null;
};

/**
 * Judges the body of a request whose head passed: 413 past 1 MB, 400 for a body that is not a JSON
 * object, 202 otherwise, with the order to check when the event is a receiving ticket naming one.
 */
export const judgeBody = (
  body: WebhookRequest['body'],
  organisation: string | null | undefined,
  organisations: KnownOrganisations,
): WebhookAnswer => {
  if (typeof body !== 'string') return answer(413, 'too-large');
  if (Buffer.byteLength(body, 'utf8') > MAX_WEBHOOK_BODY_BYTES) return answer(413, 'too-large');
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch {
    return answer(400, 'not-json-object');
  }
  if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) return answer(400, 'not-json-object');
  let organisationId: number | undefined;
  if (organisation !== undefined && organisation !== null && organisation !== '') {
    const id = /^\d{1,15}$/.test(organisation) ? Number(organisation) : Number.NaN;
    const known = organisations === 'any' ? Number.isSafeInteger(id) : organisations.includes(id);
    if (!known) return answer(202, 'unknown-organisation');
    organisationId = id;
  }
  const number = orderNumberOf(parsed as Record<string, unknown>);
  if (number === null) return answer(202, 'ignored');
  return answer(202, 'accepted', organisationId === undefined ? { number } : { number, organisationId });
};

/** Judges one whole request: judgeHead, then judgeBody. */
export const judgeWebhook = (
  request: WebhookRequest,
  secret: string,
  organisations: KnownOrganisations = [],
  admit?: () => boolean,
): WebhookAnswer =>
  judgeHead(request.method, request.path, secret, admit) ??
  judgeBody(request.body, request.organisation, organisations);

/** Checks the webhook secret's setting: present and at least MIN_WEBHOOK_SECRET_LENGTH characters. */
export const webhookSecretProblem = (secret: string | undefined): string | undefined => {
  if (secret === undefined || secret.trim() === '') return 'must be set';
  if (secret.length < MIN_WEBHOOK_SECRET_LENGTH) {
    return `must be at least ${MIN_WEBHOOK_SECRET_LENGTH} characters long`;
  }
  if (!/^[A-Za-z0-9._~-]+$/.test(secret))
    return 'may hold only letters, digits and . _ ~ - (it is a URL path segment)';
  return undefined;
};
