/** Order ids kept in a checkpoint compactly: sorted, first id then differences (small numbers deflate well). */
export const encodeIds = (ids: Iterable<number>): number[] => {
  const sorted = [...new Set(ids)].sort((a, b) => a - b);
  return sorted.map((id, i) => (i === 0 ? id : id - (sorted[i - 1] as number)));
};

export const decodeIds = (encoded: readonly number[]): number[] => {
  const ids: number[] = [];
  let current = 0;
  for (const delta of encoded) {
    current += delta;
    ids.push(current);
  }
  return ids;
};
