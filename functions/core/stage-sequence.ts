/**
 * The order of stages (docs/contract.md section 1b): the order in which line items go through their
 * stages, merged across line items and, where they do not tell, the account's other orders. One
 * implementation for the production signals (a roll-up, the forecast's stages still to come) and for the
 * board's columns.
 */

/**
 * Stage names in production order, the last resort where neither the line items nor the account tell:
 * common names have a known place; any other name goes after the known stage that most often comes before
 * it in the line items' own sequences.
 */
export const CANONICAL_STAGES = [
  'Design',
  'Sampling',
  'Pattern',
  'Pattern Making',
  'Fabric',
  'Trims',
  'Knitting',
  'Linking',
  'Cutting',
  'Printing',
  'Embroidery',
  'Sewing',
  'Stitching',
  'Assembly',
  'Washing',
  'Dyeing',
  'Finishing',
  'Pressing',
  'Ironing',
  'Labelling',
  'Packing',
  'Quality Check',
  'QC',
  'Inspection',
  'Shipping',
] as const;

const RANK = new Map<string, number>(CANONICAL_STAGES.map((name, index) => [name.toLowerCase(), index]));

/** What the account says of two stage names: negative when `a` comes first, positive when `b` does, 0: it does not tell. */
export type Precedence = (a: string, b: string) => number;

const pairKey = (a: string, b: string) => `${a}\u0000${b}`;

/**
 * Orders the stage names of `sequences` (each one line item's stage names in its own time order):
 *   1. by what the sequences say, by majority (a line item that went through A, then B, votes A before B);
 *   2. where they do not tell (no vote, or a tie), by `account` (the account's other orders);
 *   3. where neither tells, common names by their known place (CANONICAL_STAGES), any other name after the
 *      known stage that most often comes before it, then first seen.
 * A contradiction that leaves no name first (A before B before C before A) is settled by step 3.
 */
export const orderStages = (sequences: ReadonlyArray<readonly string[]>, account?: Precedence): string[] => {
  const firstSeen = new Map<string, number>();
  const votes = new Map<string, number>();
  const estimates = new Map<string, number[]>();
  for (const sequence of sequences) {
    const seen: string[] = [];
    let lastKnown = -1;
    for (const name of sequence) {
      if (!firstSeen.has(name)) firstSeen.set(name, firstSeen.size);
      const rank = RANK.get(name.toLowerCase());
      if (rank !== undefined) lastKnown = rank;
      else {
        const list = estimates.get(name) ?? [];
        list.push(lastKnown + 0.5);
        estimates.set(name, list);
      }
      // A stage redone counts where it first came.
      if (seen.includes(name)) continue;
      for (const before of seen)
        votes.set(pairKey(before, name), (votes.get(pairKey(before, name)) ?? 0) + 1);
      seen.push(name);
    }
  }
  const names = [...firstSeen.keys()];
  if (names.length < 2) return names;
  const place = (name: string): number => {
    const known = RANK.get(name.toLowerCase());
    if (known !== undefined) return known;
    const list = estimates.get(name) ?? [0];
    return list.reduce((a, b) => a + b, 0) / list.length;
  };
  const fallback = (a: string, b: string) =>
    place(a) - place(b) || (firstSeen.get(a) ?? 0) - (firstSeen.get(b) ?? 0);
  /** Negative: `a` must come before `b` (the line items, else the account say so). */
  const precedes = (a: string, b: string): number => {
    const said = (votes.get(pairKey(b, a)) ?? 0) - (votes.get(pairKey(a, b)) ?? 0);
    if (said !== 0) return said;
    return account ? Math.sign(account(a, b)) : 0;
  };
  // Kahn's algorithm: the next name is one that nothing left must precede; among those, the fallback's first.
  const left = new Set(names);
  const result: string[] = [];
  while (left.size > 0) {
    const free = [...left].filter(
      (name) => ![...left].some((other) => other !== name && precedes(other, name) < 0),
    );
    const pool = free.length > 0 ? free : [...left];
    const next = pool.reduce((best, name) => (fallback(name, best) < 0 ? name : best));
    result.push(next);
    left.delete(next);
  }
  return result;
};
