import type { QueuedCheck } from './message.js';

/** One message of a batch the check function was handed. */
export interface QueuedRecord {
  id: string;
  /** Its FIFO message group. */
  group: string;
  check: QueuedCheck;
}

export interface CheckPlan {
  /** Messages naming no organisation while there are several: sent again, one per organisation. */
  fanOut: QueuedRecord[];
  /** The messages each organisation checks, in batch order. */
  byOrganisation: Map<number | undefined, QueuedRecord[]>;
  /** Messages naming an organisation that is not one of these: acknowledged and dropped. */
  unknown: QueuedRecord[];
}

/**
 * Who handles each message: the organisation it names; with one organisation, that one; with several, a
 * message naming none is fanned out, so that each organisation's check runs in its own group and one
 * that fails never holds the others back.
 */
export const planChecks = (
  records: readonly QueuedRecord[],
  organisationIds: ReadonlyArray<number | undefined>,
): CheckPlan => {
  const plan: CheckPlan = { fanOut: [], byOrganisation: new Map(), unknown: [] };
  const only = organisationIds.length === 1 ? organisationIds : undefined;
  for (const record of records) {
    const named = record.check.organisationId;
    let target: number | undefined;
    if (named === undefined) {
      if (!only) {
        plan.fanOut.push(record);
        continue;
      }
      target = only[0];
    } else if (organisationIds.includes(named)) {
      target = named;
    } else {
      plan.unknown.push(record);
      continue;
    }
    const list = plan.byOrganisation.get(target) ?? [];
    list.push(record);
    plan.byOrganisation.set(target, list);
  }
  return plan;
};

/**
 * The partial batch response: the failed messages and, FIFO-wise, every later message of the same group
 * in the batch (handed back together, their order kept). Other groups' messages are never named.
 */
export const batchItemFailures = (
  records: ReadonlyArray<{ id: string; group: string }>,
  failed: ReadonlySet<string>,
): Array<{ itemIdentifier: string }> => {
  const stopped = new Set<string>();
  const out: Array<{ itemIdentifier: string }> = [];
  for (const record of records) {
    if (failed.has(record.id)) stopped.add(record.group);
    if (stopped.has(record.group)) out.push({ itemIdentifier: record.id });
  }
  return out;
};
