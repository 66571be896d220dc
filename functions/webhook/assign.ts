import type { CheckRequest } from './intake.js';

/**
 * Which numbers each organisation checks: a request naming an organisation goes to it alone; one naming
 * none goes to every configured organisation (a number that is not theirs costs each one look-up and
 * yields nothing).
 */
export const numbersByOrganisation = (
  requests: readonly CheckRequest[],
  organisationIds: ReadonlyArray<number | undefined>,
): Map<number | undefined, string[]> => {
  const out = new Map<number | undefined, string[]>();
  for (const request of requests) {
    const targets =
      request.organisationId === undefined
        ? organisationIds
        : organisationIds.filter((id) => id === request.organisationId);
    for (const id of targets) {
      const list = out.get(id) ?? [];
      if (!list.includes(request.number)) list.push(request.number);
      out.set(id, list);
    }
  }
  return out;
};
