/** The request was never sent: a parameter is invalid. Names the parameter and what was wrong. */
export class UphanceParameterError extends Error {
  override readonly name = 'UphanceParameterError';
}

/** Credentials were rejected (401/403 after re-authenticating, or the token endpoint said no). */
export class UphanceAuthError extends Error {
  override readonly name = 'UphanceAuthError';
  constructor(
    message: string,
    readonly status: number | undefined,
  ) {
    super(message);
  }
}

/** The API could not be used: gave up after retries, or answered something unusable. */
export class UphanceApiError extends Error {
  override readonly name = 'UphanceApiError';
  constructor(
    message: string,
    readonly endpoint: string,
    readonly status: number | undefined,
    readonly attempts: number,
  ) {
    super(message);
  }
}

/**
 * Uphance kept answering for another organisation than the one selected (another runner selected its own
 * on the same credentials without taking turns): the page is never used.
 */
export class UphanceOrganisationError extends Error {
  override readonly name = 'UphanceOrganisationError';
  constructor(
    message: string,
    readonly expected: number,
    readonly actual: number,
  ) {
    super(message);
  }
}
