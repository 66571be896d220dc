import type { StageSample } from '../../functions/core/history.js';
import { StageHistory } from '../../functions/core/history.js';

const DAY_MINUTES = 1440;

/** Durations of one stage at one supplier, in days, each ending a day before the previous one. */
export interface SampleSpec {
  stage: string;
  supplier: number | null;
  days: number[];
  /** The stage that followed ('' the end); absent: not known. */
  next?: string;
  /** End of the most recent sample (epoch ms); default 2026-11-01. */
  lastEnd?: number;
}

export const samplesOf = (spec: SampleSpec): StageSample[] => {
  const lastEnd = Math.floor((spec.lastEnd ?? Date.parse('2026-11-01T00:00:00Z')) / 60_000);
  return spec.days.map((days, i) => {
    const sample: StageSample = {
      stage: spec.stage,
      supplier: spec.supplier,
      id: `${spec.stage}/${spec.supplier}/${i}/${spec.lastEnd ?? 0}`,
      end: lastEnd - i * DAY_MINUTES,
      minutes: Math.round(days * DAY_MINUTES),
    };
    if (spec.next !== undefined) sample.next = spec.next;
    return sample;
  });
};

/** A stage history with these samples. */
export const historyWith = (...specs: SampleSpec[]): StageHistory => {
  const history = new StageHistory();
  history.merge(specs.flatMap(samplesOf));
  return history;
};

/** `n` durations of `days` each. */
export const times = (n: number, days: number): number[] => Array.from({ length: n }, () => days);
