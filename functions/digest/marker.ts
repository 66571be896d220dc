/** What the last digest recorded: when it ran and the end of the period it reported. */
export interface DigestMark {
  at: string;
  until: string;
  /** The scheduled run that made it (deployed digests), so that a retry of that run does not repeat it. */
  run?: string;
}

/**
 * The `digest` marker: when the last digest was made and where its period ended, so that the next one
 * reports what was detected since. A marker of an earlier version has no `until`: its time stands for it.
 * File state: a file beside the state file (FILE.digest.json), never the state file itself, whose writer
 * (the poller) rewrites it whole under its lease. DynamoDB: one item per organisation in a partition of its
 * own (markerKey), apart from the state, so that the deployed digest function, which may write nothing
 * else, gets write access to these partitions only (IAM `dynamodb:LeadingKeys`, infra/constructs/digest.ts).
 */
export interface DigestMarker {
  last(): Promise<DigestMark | null>;
  record(mark: DigestMark): Promise<void>;
}

/** A stored marker's fields as a mark (a marker of an earlier version has no `until`: its time stands). */
export const markOf = (at: unknown, until: unknown, run: unknown): DigestMark | null =>
  typeof at === 'string'
    ? { at, until: typeof until === 'string' ? until : at, ...(typeof run === 'string' ? { run } : {}) }
    : null;

/** The marker item's key for an organisation's partition name (`default` without an organisation). */
export const markerKey = (organisation: string) => ({ pk: `digest#${organisation}`, sk: 'digest' });

/** Every attribute a marker item has: the digest function may write items of these attributes only. */
export const MARKER_ATTRIBUTES = ['pk', 'sk', 'lastDigestAt', 'until', 'run'] as const;
