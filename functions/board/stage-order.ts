/**
 * Stage names in production order. The API lists a line item's stages without saying where a stage stands
 * in the factory's flow, so common names have a known place; any other name is placed after the known
 * stage that most often comes before it in the line items' own sequences.
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

/** Orders the stage names seen; `sequences` are the line items' stage names in their own (time) order. */
export const orderStages = (sequences: string[][]): string[] => {
  const firstSeen = new Map<string, number>();
  const estimates = new Map<string, number[]>();
  for (const sequence of sequences) {
    let lastKnown = -1;
    for (const name of sequence) {
      if (!firstSeen.has(name)) firstSeen.set(name, firstSeen.size);
      const rank = RANK.get(name.toLowerCase());
      if (rank !== undefined) {
        lastKnown = rank;
        continue;
      }
      const list = estimates.get(name) ?? [];
      list.push(lastKnown + 0.5);
      estimates.set(name, list);
    }
  }
  const rankOf = (name: string): number => {
    const known = RANK.get(name.toLowerCase());
    if (known !== undefined) return known;
    const list = estimates.get(name) ?? [0];
    return list.reduce((a, b) => a + b, 0) / list.length;
  };
  return [...firstSeen.keys()].sort(
    (a, b) => rankOf(a) - rankOf(b) || (firstSeen.get(a) ?? 0) - (firstSeen.get(b) ?? 0),
  );
};
