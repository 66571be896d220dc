import type { DigestMessage } from '../messages/channels.js';
import { CHANNELS } from '../messages/channels.js';
import type { SlackMessage } from '../messages/slack.js';
import { ConfigError } from '../shared/config-error.js';

export interface SlackWebhookOptions {
  /** The incoming-webhook URL: it is the credential, so it never goes into a log or an error. */
  url: string;
  fetch?: typeof fetch;
  sleep?: (ms: number) => Promise<void>;
  /** Attempts in all (default 3); the Lambda's own async retries come after these. */
  attempts?: number;
  timeoutMs?: number;
}

export class SlackWebhookError extends Error {
  override readonly name = 'SlackWebhookError';
}

const retryAfterMs = (header: string | null, attempt: number): number => {
  const seconds = header === null ? Number.NaN : Number(header);
  // Bounded: a long Retry-After is better served by the Lambda's async retry than by waiting here.
  return Number.isFinite(seconds) && seconds >= 0 ? Math.min(seconds * 1000, 20_000) : 500 * 2 ** attempt;
};

/** Posts one payload to a Slack incoming webhook; retries 429 (Retry-After) and 5xx, not other 4xx. */
export const postToSlack = async (payload: SlackMessage, options: SlackWebhookOptions): Promise<void> => {
  const doFetch = options.fetch ?? fetch;
  const sleep = options.sleep ?? ((ms) => new Promise<void>((resolve) => setTimeout(resolve, ms)));
  const attempts = options.attempts ?? 3;
  let last = '';
  for (let attempt = 0; attempt < attempts; attempt++) {
    let response: Response;
    try {
      response = await doFetch(options.url, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(payload),
        signal: AbortSignal.timeout(options.timeoutMs ?? 10_000),
      });
    } catch (error) {
      last = `network error (${(error as Error).name})`;
      if (attempt < attempts - 1) await sleep(500 * 2 ** attempt);
      continue;
    }
    if (response.ok) return;
    // Slack explains a refusal in the body (e.g. "invalid_blocks", "no_service"): safe to report.
    const reason = (await response.text().catch(() => '')).slice(0, 200);
    last = `HTTP ${response.status}${reason ? ` ${reason}` : ''}`;
    if (response.status !== 429 && response.status < 500) break;
    if (attempt < attempts - 1) await sleep(retryAfterMs(response.headers.get('retry-after'), attempt));
  }
  throw new SlackWebhookError(`Slack refused the message: ${last}`);
};

/**
 * The digest's Slack channel: one post of its payload (channels.ts), no retry (a failed run is retried by
 * its schedule). The URL is a secret: it never appears in an error or a log.
 */
export const slackChannel =
  (webhookUrl: string, fetchImpl: typeof fetch = fetch) =>
  async (message: DigestMessage): Promise<void> => {
    let response: Response;
    try {
      response = await fetchImpl(webhookUrl, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(CHANNELS.slack.digestPayload(message)),
        signal: AbortSignal.timeout(10_000),
      });
    } catch (error) {
      // fetch's own messages may quote the URL: only the kind of failure goes on.
      const code = (error as { cause?: { code?: unknown } }).cause?.code;
      throw new Error(
        `Slack could not be reached: ${(error as Error).name}${typeof code === 'string' ? ` (${code})` : ''}`,
      );
    }
    if (!response.ok) throw new Error(`Slack refused the digest: HTTP ${response.status}`);
  };

/** The webhook URL from its secret: a plain string or {"url": "..."}. */
export const webhookUrlOf = (secret: unknown, secretName: string): string => {
  let value = typeof secret === 'string' ? secret.trim() : '';
  if (value.startsWith('{')) {
    try {
      value = String((JSON.parse(value) as { url?: unknown }).url ?? '');
    } catch {
      value = '';
    }
  }
  if (!/^https:\/\/\S+$/.test(value) || !URL.canParse(value)) {
    throw new ConfigError(
      `the secret ${secretName} holds no Slack webhook URL: put the https://hooks.slack.com/services/... URL into it`,
    );
  }
  return value;
};
