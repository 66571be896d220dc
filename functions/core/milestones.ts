/**
 * When the notifier detected an order's milestones, kept in its snapshot for the digest ("stages completed
 * and orders received since the last digest"). Times are the detecting cycle's `detectedAt` (epoch ms),
 * not the factory's end times: a completion the poller learns of late is still news to the next digest.
 * Only what an event reported is dated; what a first sight or a baseline recorded silently is not news.
 */
export interface Milestones {
  /** Stage name -> when its OrderStageCompleted was emitted; kept while the roll-up holds. */
  rolledUpSeen?: Record<string, number>;
  /** When OrderAllReceived was emitted; kept while the order stays all received. */
  receivedSeen?: number;
}

/** What a diff found that the milestones follow. */
export interface MilestoneInput {
  /** The roll-ups that hold now (signal memory), or null when the signals were not evaluated. */
  rolledUp: readonly string[] | null;
  /** Stage names whose OrderStageCompleted this diff emitted. */
  firedStages: readonly string[];
  /** Whether the order is all received now, and whether this diff emitted OrderAllReceived. */
  allReceived: boolean;
  receivedFired: boolean;
}

/** The milestones of the new snapshot, from the previous one's and what the diff found at `seenAt`. */
export const nextMilestones = (previous: Milestones, found: MilestoneInput, seenAt: number): Milestones => {
  const next: Milestones = {};
  // Without signal settings the roll-up memory is carried as it was, and so are its times.
  const holding = found.rolledUp ?? Object.keys(previous.rolledUpSeen ?? {});
  const rolled: Record<string, number> = {};
  for (const name of holding) {
    const at = found.firedStages.includes(name) ? seenAt : previous.rolledUpSeen?.[name];
    if (at !== undefined) rolled[name] = at;
  }
  if (Object.keys(rolled).length > 0) next.rolledUpSeen = rolled;
  if (found.allReceived) {
    const at = found.receivedFired ? seenAt : previous.receivedSeen;
    if (at !== undefined) next.receivedSeen = at;
  }
  return next;
};
