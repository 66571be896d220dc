/**
 * The production signals' memory, kept in each order's snapshot (all optional: absent means nothing fired
 * yet). Its own module so that the snapshot (which carries it) and the signals (which read snapshots)
 * do not import each other.
 */
export interface SignalMemory {
  /**
   * Set once the signals have been evaluated on this snapshot. A snapshot without it (written before the
   * signals existed, or with them off) is a first sight for them: what is already true is recorded silently
   * instead of firing for every order at once after an upgrade.
   */
  sig?: 1;
  /** Stage names whose OrderStageCompleted fired and whose condition still holds. */
  rolledUp?: string[];
  /** The due date OrderDueSoon fired for. */
  dueSoon?: string;
  /** The due date OrderOverdue fired for. */
  overdue?: string;
  /** The due date OrderAtRisk fired for. */
  atRisk?: string;
  /**
   * Set once the order has had a forecast. Its first forecast is a first sight for OrderAtRisk: an order
   * already late then (seen while the history was too thin, early in a baseline or after an upgrade) is
   * recorded without an event.
   */
  fc?: 1;
  /** lineItemId -> stageKey -> start (epoch ms) of the stages in progress that have a start time. */
  starts?: Record<string, Record<string, number>>;
  /** `lineItemId/stageKey/startMs` of the stalls that fired, kept while that stage is still listed. */
  stalled?: string[];
}

/** Copies only the memory fields, so that a snapshot carries no empty keys. */
export const signalMemoryOf = (snapshot: SignalMemory): SignalMemory => {
  const memory: SignalMemory = {};
  if (snapshot.sig !== undefined) memory.sig = snapshot.sig;
  if (snapshot.rolledUp) memory.rolledUp = snapshot.rolledUp;
  if (snapshot.dueSoon !== undefined) memory.dueSoon = snapshot.dueSoon;
  if (snapshot.overdue !== undefined) memory.overdue = snapshot.overdue;
  if (snapshot.atRisk !== undefined) memory.atRisk = snapshot.atRisk;
  if (snapshot.fc !== undefined) memory.fc = snapshot.fc;
  if (snapshot.starts) memory.starts = snapshot.starts;
  if (snapshot.stalled) memory.stalled = snapshot.stalled;
  return memory;
};
