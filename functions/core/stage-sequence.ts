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
const CANONICAL_STAGES = [
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

/**
 * Orders the stage names of `sequences` (each one line item's stage names in its own time order):
 *   1. by what the sequences say, by majority (a line item that went through A, then B, votes A before B);
 *   2. where they do not tell (no vote, or a tie), by `account` (the account's other orders);
 *   3. where neither tells, common names by their known place (CANONICAL_STAGES), any other name after the
 *      known stage that most often comes before it, then first seen.
 * A contradiction that leaves no name first (A before B before C before A) is settled by step 3.
 * Runs for every order the production signals judge: a few names, typed arrays, no allocation per pair.
 */
export const orderStages = (sequences: ReadonlyArray<readonly string[]>, account?: Precedence): string[] => {
  const index = new Map<string, number>();
  const names: string[] = [];
  for (const sequence of sequences)
    for (const name of sequence)
      if (!index.has(name)) {
        index.set(name, names.length);
        names.push(name);
      }
  const n = names.length;
  if (n < 2) return names;
  // votes[a * n + b]: line items that went through a before b; estimates: where unknown names sit.
  const votes = new Int32Array(n * n);
  const estimateSum = new Float64Array(n);
  const estimateCount = new Int32Array(n);
  const seen = new Int32Array(n);
  for (let s = 0; s < sequences.length; s++) {
    const sequence = sequences[s] as readonly string[];
    const order: number[] = [];
    let lastKnown = -1;
    for (const name of sequence) {
      const at = index.get(name) as number;
      const rank = RANK.get(name.toLowerCase());
      if (rank !== undefined) lastKnown = rank;
      else {
        estimateSum[at] = (estimateSum[at] as number) + lastKnown + 0.5;
        estimateCount[at] = (estimateCount[at] as number) + 1;
      }
      // A stage redone counts where it first came.
      if (seen[at] === s + 1) continue;
      seen[at] = s + 1;
      for (const before of order) votes[before * n + at] = (votes[before * n + at] as number) + 1;
      order.push(at);
    }
  }
  const place = (i: number): number => {
    const known = RANK.get((names[i] as string).toLowerCase());
    if (known !== undefined) return known;
    return estimateCount[i] ? (estimateSum[i] as number) / (estimateCount[i] as number) : 0;
  };
  const places = Float64Array.from({ length: n }, (_, i) => place(i));
  // must[a * n + b]: a comes before b (the line items say so, else the account).
  const must = new Uint8Array(n * n);
  for (let a = 0; a < n; a++)
    for (let b = 0; b < n; b++) {
      if (a === b) continue;
      const said = (votes[a * n + b] as number) - (votes[b * n + a] as number);
      if (said > 0 || (said === 0 && account && account(names[a] as string, names[b] as string) < 0))
        must[a * n + b] = 1;
    }
  // Kahn's algorithm: the next name is one that nothing left must precede; among those, step 3's first.
  const left = new Uint8Array(n).fill(1);
  const result: string[] = [];
  for (let step = 0; step < n; step++) {
    let best = -1;
    let bestFree = false;
    for (let i = 0; i < n; i++) {
      if (!left[i]) continue;
      let free = true;
      for (let j = 0; j < n && free; j++) if (left[j] && must[j * n + i]) free = false;
      const better =
        best < 0 ||
        (free && !bestFree) ||
        (free === bestFree &&
          ((places[i] as number) < (places[best] as number) || (places[i] === places[best] && i < best)));
      if (better) {
        best = i;
        bestFree = free;
      }
    }
    left[best] = 0;
    result.push(names[best] as string);
  }
  return result;
};
