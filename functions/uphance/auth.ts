import { z } from 'zod';
import type { CallBounds } from '../shared/timing.js';
import { UphanceAuthError } from './errors.js';
import type { Clock, SendRequest, SendResult } from './transport.js';

export type Credentials =
  | { kind: 'token'; token: string }
  | { kind: 'password'; email: string; password: string };

const tokenResponse = z.looseObject({
  access_token: z.string().min(1),
  refresh_token: z.string().nullish(),
  expires_in: z.number().positive().nullish(),
  token_type: z.string().nullish(),
});

/** Refresh this long before the token's announced expiry, so a request never races it. */
const EXPIRY_MARGIN_MS = 5 * 60_000;
const DEFAULT_LIFETIME_S = 604_800;

const oauthError = (body: unknown): string => {
  if (body && typeof body === 'object' && 'error' in body && typeof body.error === 'string') {
    return body.error.replace(/[^\w .-]/g, '').slice(0, 60);
  }
  return 'rejected';
};

/**
 * Supplies bearer tokens: a static token as given, or an OAuth password grant refreshed before it expires
 * (refresh_token grant, falling back to the password grant). Secrets stay inside this object: they are
 * never part of a message, a log line or an error.
 */
export class TokenProvider {
  #credentials: Credentials;
  #accessToken: string | undefined;
  #refreshToken: string | undefined;
  #expiresAt = 0;
  #pending: Promise<string> | undefined;

  constructor(
    credentials: Credentials,
    private readonly send: (request: SendRequest, bounds?: CallBounds) => Promise<SendResult>,
    private readonly clock: Clock,
  ) {
    this.#credentials = credentials;
    if (credentials.kind === 'token') this.#accessToken = credentials.token;
  }

  get canReauthenticate(): boolean {
    return this.#credentials.kind === 'password';
  }

  /** Returns a valid access token, obtaining or refreshing it first when needed. */
  async token(bounds?: CallBounds): Promise<string> {
    if (this.#credentials.kind === 'token') return this.#credentials.token;
    if (this.#accessToken && this.clock.now() < this.#expiresAt - EXPIRY_MARGIN_MS) return this.#accessToken;
    this.#pending ??= this.#obtain(bounds).finally(() => {
      this.#pending = undefined;
    });
    return this.#pending;
  }

  /** Forgets the current token after a 401 so that the next call authenticates again. */
  invalidate(): void {
    if (this.#credentials.kind === 'password') {
      this.#accessToken = undefined;
      this.#expiresAt = 0;
    }
  }

  async #obtain(bounds?: CallBounds): Promise<string> {
    const credentials = this.#credentials;
    if (credentials.kind !== 'password') throw new Error('unreachable');
    if (this.#refreshToken) {
      const refreshed = await this.#grant(
        { grant_type: 'refresh_token', refresh_token: this.#refreshToken },
        bounds,
      );
      if (refreshed) return refreshed;
      this.#refreshToken = undefined;
    }
    const token = await this.#grant(
      { grant_type: 'password', email: credentials.email, password: credentials.password },
      bounds,
    );
    if (!token) {
      throw new UphanceAuthError('Uphance rejected the email and password (POST /oauth/token)', 401);
    }
    return token;
  }

  async #grant(form: Record<string, string>, bounds?: CallBounds): Promise<string | undefined> {
    const result = await this.send({ method: 'POST', path: '/oauth/token', body: { form } }, bounds);
    if (result.status === 400 || result.status === 401 || result.status === 403) {
      if (form.grant_type === 'refresh_token') return undefined;
      throw new UphanceAuthError(
        `Uphance rejected the email and password (POST /oauth/token: ${result.status} ${oauthError(result.body)})`,
        result.status,
      );
    }
    const parsed = tokenResponse.safeParse(result.body);
    if (result.status >= 300 || !parsed.success) {
      throw new UphanceAuthError(
        `Uphance's token endpoint answered ${result.status} without a usable access_token (POST /oauth/token)`,
        result.status,
      );
    }
    this.#accessToken = parsed.data.access_token;
    this.#refreshToken = parsed.data.refresh_token ?? undefined;
    this.#expiresAt = this.clock.now() + (parsed.data.expires_in ?? DEFAULT_LIFETIME_S) * 1000;
    return this.#accessToken;
  }
}
