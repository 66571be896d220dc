/**
 * The simulated account's suppliers and how long their stages take: each has its own pace (days a stage
 * of ordinary length takes), stages have their own length (Sewing is long, Packing short), every duration
 * has noise, and now and then a stage is held up. The forecast (functions/core/forecast.ts) learns these from
 * the completed stages it sees; `npm start` and `npm run bench:forecast` play them.
 */
export interface Supplier {
  id: number;
  name: string;
  /** Typical days of a stage of ordinary length (factor 1). */
  pace: number;
}

export const SUPPLIERS: readonly Supplier[] = [
  { id: 59576, name: 'Adine Undone', pace: 3 },
  { id: 59578, name: 'Bolide', pace: 5 },
  { id: 59582, name: 'Tribal Sportswear Inc.', pace: 4 },
  { id: 59601, name: 'Maison Lune Atelier', pace: 10 },
  { id: 59623, name: 'Hanoi Stitchworks', pace: 7 },
  { id: 59640, name: 'Porto Knit Lda', pace: 2 },
];

/** How long a stage is against an ordinary one. */
const STAGE_LENGTH: Record<string, number> = {
  Cutting: 0.5,
  Sewing: 1.5,
  Finishing: 0.7,
  Packing: 0.3,
  Knitting: 1.5,
  Linking: 0.8,
  Washing: 0.6,
};

/** The suppliers' mean pace: how an account plans that does not know them apart. */
const AVERAGE_PACE = SUPPLIERS.reduce((sum, s) => sum + s.pace, 0) / SUPPLIERS.length;

const paceOf = (supplierId: number | null): number =>
  SUPPLIERS.find((s) => s.id === supplierId)?.pace ?? AVERAGE_PACE;

/** The typical duration of a stage at a supplier (any other id: the average pace), in days, no noise. */
export const typicalDays = (supplierId: number | null, stage: string): number =>
  paceOf(supplierId) * (STAGE_LENGTH[stage] ?? 1);

/** A standard normal draw (Box-Muller) from a uniform source. */
const normal = (random: () => number): number =>
  Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random());

export interface PaceOptions {
  /** Spread of the noise (log-normal sigma). Default 0.25. */
  noise?: number;
  /** Share of stages held up, and by how much at most (a held-up stage takes 1.5 to 1.5 + this times longer). */
  delayShare?: number;
  delayFactor?: number;
}

/** A duration drawn for one stage of one line item, in days. */
export const stageDays = (
  random: () => number,
  supplierId: number | null,
  stage: string,
  options: PaceOptions = {},
): number => {
  const noise = Math.exp((options.noise ?? 0.25) * normal(random));
  const held = random() < (options.delayShare ?? 0.05) ? 1.5 + random() * (options.delayFactor ?? 1.5) : 1;
  return typicalDays(supplierId, stage) * noise * held;
};
