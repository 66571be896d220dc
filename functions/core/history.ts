import { createHash } from 'node:crypto';
import type { Order } from './order.js';
import type { KeyedStage } from './snapshot.js';
import { CLOSED_STATUSES, STAGE_COMPLETED } from './vocabulary.js';

/**
 * The account's stage history (docs/contract.md section 1c): completed stages with their durations, per
 * stage name and supplier, kept small and bounded. A sample has an identity (its order, line item and stage
 * key, hashed), and the history keeps, per stage name, the ACCOUNT_SAMPLES most recent samples and each
 * supplier's SUPPLIER_SAMPLES most recent ones. Merging is a union by identity (a sample seen again takes
 * its latest times) followed by that cut: applying the same samples twice (a journal replay, a sweep
 * seeing the same completed stages every day) gives the same history: no duration is counted twice.
 */
/** A stage's expected duration needs at least this many completed durations behind it. */
export const MIN_SAMPLES = 5;
/** Most recent samples kept per stage name and supplier. */
export const SUPPLIER_SAMPLES = 30;
/** Most recent samples kept per stage name, all suppliers together. */
export const ACCOUNT_SAMPLES = 120;
/** Suppliers whose own samples are kept per stage name (those with the most recent samples). */
const MAX_SUPPLIERS = 200;
/** Stage names kept (those with the most recent samples). */
const MAX_STAGE_NAMES = 100;
/** Longer "durations" are data errors (a stage closed years later), not history. */
const MAX_DURATION_MINUTES = 730 * 24 * 60;
const MINUTE_MS = 60_000;

/** One completed stage of one line item. Times in whole minutes since the epoch. */
export interface StageSample {
  stage: string;
  /** The order's supplier (companyId); null when it has none. */
  supplier: number | null;
  /** Short hash of the order, line item, stage key and end time. */
  id: string;
  end: number;
  /** Duration in minutes. */
  minutes: number;
  /**
   * The stage the line item went to next: a stage name, '' when this was its last stage and the order is
   * closed (the route ended), absent while not known yet (the line item has not moved on).
   */
  next?: string;
}

/** The history as the stores keep it: per stage name, suppliers and next names listed once. */
export interface PackedHistory {
  v: 1;
  stages: Array<[stage: string, suppliers: Array<number | null>, nexts: string[], samples: PackedSample[]]>;
}
type PackedSample = [id: string, end: number, minutes: number, supplier: number, next: number];

/** Most recent first: by end, then id (a total order, so that every cut is the same wherever it is made). */
const newerFirst = (a: StageSample, b: StageSample): number =>
  b.end - a.end || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);

/** Of two versions of one sample, the one that knows more; a total order, so merging commutes. */
const joinNext = (a: string | undefined, b: string | undefined): string | undefined =>
  a === undefined ? b : b === undefined ? a : a > b ? a : b;

interface StageBucket {
  /** Kept samples, most recent first. */
  samples: StageSample[];
  byId: Map<string, StageSample>;
  /** Per supplier, its kept samples, most recent first. */
  bySupplier: Map<number | null, StageSample[]>;
}

const emptyBucket = (): StageBucket => ({ samples: [], byId: new Map(), bySupplier: new Map() });

/** The expected duration of a stage and where it comes from. */
export interface Expected {
  ms: number;
  source: 'supplier' | 'account';
  samples: number;
}

/** What the history tells the forecast and the stage sequence. */
export interface StageKnowledge {
  /** The supplier's median duration where it has MIN_SAMPLES, else the account's, else null. */
  expected(stage: string, supplier: number | null): Expected | null;
  /** The stage that usually follows (the supplier's habit where it tells, else the account's): '' the end, null unknown. */
  successor(stage: string, supplier: number | null): string | null;
  /** The account's order of two stage names: negative when `a` comes first, positive when `b` does, 0 unknown. */
  before(a: string, b: string): number;
}

const median = (values: number[]): number => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1
    ? (sorted[mid] as number)
    : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
};

/** The most common next stage of these samples, or null when fewer than `min` know theirs. */
const mostCommonNext = (samples: readonly StageSample[], min: number): string | null => {
  const counts = new Map<string, number>();
  let known = 0;
  for (const sample of samples) {
    if (sample.next === undefined) continue;
    known++;
    counts.set(sample.next, (counts.get(sample.next) ?? 0) + 1);
  }
  if (known < min) return null;
  let best: string | null = null;
  let bestCount = 0;
  for (const [next, count] of counts) {
    // Ties: going on before ending (the longer forecast), then by name.
    const better =
      count > bestCount ||
      (count === bestCount && best !== null && (best === '' || (next !== '' && next < best)));
    if (better) {
      best = next;
      bestCount = count;
    }
  }
  return best;
};

/**
 * The stage history of one organisation, with the knowledge derived from it. Not thread-safe and not
 * persistent: the stores keep its packed form, the cycle merges what it sees into a working copy and
 * commits the samples that changed it.
 */
export class StageHistory implements StageKnowledge {
  readonly #stages = new Map<string, StageBucket>();
  #expected = new Map<string, Expected | null>();
  #successors = new Map<string, string | null>();
  #reach: Map<string, Set<string>> | null = null;

  static fromPacked(packed: PackedHistory | null | undefined): StageHistory {
    const history = new StageHistory();
    if (packed?.v !== 1 || !Array.isArray(packed.stages)) return history;
    const samples: StageSample[] = [];
    for (const [stage, suppliers, nexts, rows] of packed.stages) {
      for (const [id, end, minutes, supplier, next] of rows) {
        const sample: StageSample = { stage, supplier: suppliers[supplier] ?? null, id, end, minutes };
        if (next >= 0 && nexts[next] !== undefined) sample.next = nexts[next];
        samples.push(sample);
      }
    }
    history.merge(samples);
    return history;
  }

  packed(): PackedHistory {
    const stages: PackedHistory['stages'] = [];
    for (const [stage, bucket] of [...this.#stages].sort((a, b) => (a[0] < b[0] ? -1 : 1))) {
      const suppliers: Array<number | null> = [];
      const nexts: string[] = [];
      const index = <T>(list: T[], value: T) => {
        let at = list.indexOf(value);
        if (at < 0) at = list.push(value) - 1;
        return at;
      };
      const rows: PackedSample[] = bucket.samples.map((s) => [
        s.id,
        s.end,
        s.minutes,
        index(suppliers, s.supplier),
        s.next === undefined ? -1 : index(nexts, s.next),
      ]);
      stages.push([stage, suppliers, nexts, rows]);
    }
    return { v: 1, stages };
  }

  /** Every kept sample, stage by stage, most recent first. */
  samples(): StageSample[] {
    return [...this.#stages.values()].flatMap((b) => b.samples);
  }

  get size(): number {
    let n = 0;
    for (const bucket of this.#stages.values()) n += bucket.samples.length;
    return n;
  }

  /**
   * Whether a completed stage ending at `end` (minutes) could be kept or could update a kept sample: a
   * cheap test before a sample's identity is hashed (a sweep offers every completed stage of the account).
   */
  mayKeep(stage: string, supplier: number | null, end: number): boolean {
    const bucket = this.#stages.get(stage);
    if (!bucket) return true;
    const oldestKept = (list: readonly StageSample[] | undefined, limit: number) =>
      list !== undefined && list.length >= limit ? (list[limit - 1] as StageSample).end : null;
    const all = oldestKept(bucket.samples, ACCOUNT_SAMPLES);
    const own = oldestKept(bucket.bySupplier.get(supplier), SUPPLIER_SAMPLES);
    return all === null || own === null || end >= all || end >= own;
  }

  /** Merges samples in place; returns those that changed the history (kept new ones, updated ones). */
  merge(samples: readonly StageSample[]): StageSample[] {
    const byStage = new Map<string, StageSample[]>();
    for (const sample of samples) {
      const list = byStage.get(sample.stage) ?? [];
      list.push(sample);
      byStage.set(sample.stage, list);
    }
    const changed: StageSample[] = [];
    for (const [stage, offered] of byStage) {
      const bucket = this.#stages.get(stage) ?? emptyBucket();
      const touched = new Map<string, StageSample>();
      for (const sample of offered) {
        const current = bucket.byId.get(sample.id) ?? touched.get(sample.id);
        if (current) {
          const next = joinNext(current.next, sample.next);
          const retimed = current.end !== sample.end || current.minutes !== sample.minutes;
          if (next === current.next && !retimed) continue;
          // The stage's latest times replace the earlier ones (a corrected end time).
          const updated: StageSample = { ...current, end: sample.end, minutes: sample.minutes };
          if (next !== undefined) updated.next = next;
          bucket.byId.set(sample.id, updated);
          touched.set(sample.id, updated);
        } else {
          const fresh: StageSample = {
            stage,
            supplier: sample.supplier,
            id: sample.id,
            end: sample.end,
            minutes: sample.minutes,
          };
          if (sample.next !== undefined) fresh.next = sample.next;
          bucket.byId.set(sample.id, fresh);
          touched.set(sample.id, fresh);
        }
      }
      if (touched.size === 0) continue;
      this.#cut(stage, [...bucket.byId.values()], bucket);
      for (const sample of touched.values()) if (bucket.byId.get(sample.id) === sample) changed.push(sample);
    }
    if (this.#stages.size > MAX_STAGE_NAMES) {
      const newest = (name: string) => this.#stages.get(name)?.samples[0]?.end ?? 0;
      const names = [...this.#stages.keys()].sort((a, b) => newest(b) - newest(a) || (a < b ? -1 : 1));
      for (const name of names.slice(MAX_STAGE_NAMES)) this.#stages.delete(name);
    }
    if (changed.length > 0) {
      this.#expected = new Map();
      this.#successors = new Map();
      this.#reach = null;
    }
    return changed;
  }

  /** Keeps the stage's ACCOUNT_SAMPLES most recent samples and each supplier's SUPPLIER_SAMPLES most recent. */
  #cut(stage: string, all: StageSample[], bucket: StageBucket): void {
    all.sort(newerFirst);
    const bySupplier = new Map<number | null, StageSample[]>();
    for (const sample of all) {
      const list = bySupplier.get(sample.supplier) ?? [];
      list.push(sample);
      bySupplier.set(sample.supplier, list);
    }
    const suppliers = [...bySupplier.keys()]
      .sort((a, b) =>
        newerFirst(bySupplier.get(a)?.[0] as StageSample, bySupplier.get(b)?.[0] as StageSample),
      )
      .slice(0, MAX_SUPPLIERS);
    const kept = new Set<StageSample>(all.slice(0, ACCOUNT_SAMPLES));
    for (const supplier of suppliers)
      for (const sample of (bySupplier.get(supplier) ?? []).slice(0, SUPPLIER_SAMPLES)) kept.add(sample);
    const samples = all.filter((s) => kept.has(s));
    bucket.samples = samples;
    bucket.byId = new Map(samples.map((s) => [s.id, s]));
    bucket.bySupplier = new Map();
    for (const sample of samples) {
      const list = bucket.bySupplier.get(sample.supplier) ?? [];
      list.push(sample);
      bucket.bySupplier.set(sample.supplier, list);
    }
    this.#stages.set(stage, bucket);
  }

  /** The supplier's own samples of a stage (its most recent), and the account's. */
  #windows(stage: string, supplier: number | null) {
    const bucket = this.#stages.get(stage);
    const own = supplier === null ? [] : (bucket?.bySupplier.get(supplier) ?? []).slice(0, SUPPLIER_SAMPLES);
    const account = (bucket?.samples ?? []).slice(0, ACCOUNT_SAMPLES);
    return { own, account };
  }

  expected(stage: string, supplier: number | null): Expected | null {
    const key = `${supplier}\u0000${stage}`;
    if (this.#expected.has(key)) return this.#expected.get(key) ?? null;
    const { own, account } = this.#windows(stage, supplier);
    const pick = (samples: StageSample[], source: Expected['source']): Expected => ({
      ms: median(samples.map((s) => s.minutes)) * MINUTE_MS,
      source,
      samples: samples.length,
    });
    const found =
      own.length >= MIN_SAMPLES
        ? pick(own, 'supplier')
        : account.length >= MIN_SAMPLES
          ? pick(account, 'account')
          : null;
    this.#expected.set(key, found);
    return found;
  }

  successor(stage: string, supplier: number | null): string | null {
    const key = `${supplier}\u0000${stage}`;
    if (this.#successors.has(key)) return this.#successors.get(key) ?? null;
    const { own, account } = this.#windows(stage, supplier);
    // What usually follows, on as much evidence as a duration needs.
    const found = mostCommonNext(own, MIN_SAMPLES) ?? mostCommonNext(account, MIN_SAMPLES);
    this.#successors.set(key, found);
    return found;
  }

  before(a: string, b: string): number {
    const reach = this.#reachability();
    const forward = reach.get(a)?.has(b) ?? false;
    const backward = reach.get(b)?.has(a) ?? false;
    return forward === backward ? 0 : forward ? -1 : 1;
  }

  /**
   * Which stages follow which across the account: an edge A → B where more line items went from A to B
   * than from B to A (rework goes back; the majority says which way production runs), then every stage
   * reachable along those edges.
   */
  #reachability(): Map<string, Set<string>> {
    if (this.#reach) return this.#reach;
    const counts = new Map<string, Map<string, number>>();
    for (const [stage, bucket] of this.#stages) {
      const out = new Map<string, number>();
      for (const sample of bucket.samples.slice(0, ACCOUNT_SAMPLES))
        if (sample.next) out.set(sample.next, (out.get(sample.next) ?? 0) + 1);
      counts.set(stage, out);
    }
    const edges = new Map<string, string[]>();
    for (const [from, out] of counts) {
      for (const [to, count] of out) {
        if (to === from || count <= (counts.get(to)?.get(from) ?? 0)) continue;
        edges.set(from, [...(edges.get(from) ?? []), to]);
      }
    }
    const reach = new Map<string, Set<string>>();
    for (const start of edges.keys()) {
      const seen = new Set<string>();
      const todo = [...(edges.get(start) ?? [])];
      while (todo.length > 0) {
        const name = todo.pop() as string;
        if (seen.has(name)) continue;
        seen.add(name);
        todo.push(...(edges.get(name) ?? []));
      }
      reach.set(start, seen);
    }
    this.#reach = reach;
    return reach;
  }
}

const minuteOf = (ms: number) => Math.floor(ms / MINUTE_MS);

/**
 * A sample's identity: the order, line item and stage key (a stage done again is another key), hashed short.
 * Not its times: seen with another offset or a corrected end, it is the same sample, never a second one.
 */
const sampleId = (orderId: number, lineItemId: number, stageKey: string): string =>
  createHash('sha256').update(`${orderId}/${lineItemId}/${stageKey}`).digest('base64url').slice(0, 11);

/**
 * The completed stages of a fetched order (with start and end times) as samples, each with the stage its
 * line item went to next where known. `history` skips, before hashing, those it would not keep.
 */
export const stageSamples = (
  order: Pick<Order, 'id' | 'status' | 'companyId' | 'lineItems'>,
  keyed: KeyedStage[][],
  history?: Pick<StageHistory, 'mayKeep'>,
): StageSample[] => {
  const samples: StageSample[] = [];
  const closed = CLOSED_STATUSES.has(order.status);
  order.lineItems.forEach((item, index) => {
    const stages = keyed[index] ?? [];
    stages.forEach((entry, at) => {
      if (entry.stage.status !== STAGE_COMPLETED || entry.start === null || entry.end === null) return;
      const minutes = minuteOf(entry.end) - minuteOf(entry.start);
      if (minutes < 0 || minutes > MAX_DURATION_MINUTES) return;
      const end = minuteOf(entry.end);
      if (history && !history.mayKeep(entry.stage.name, order.companyId, end)) return;
      const following = stages[at + 1];
      const sample: StageSample = {
        stage: entry.stage.name,
        supplier: order.companyId,
        id: sampleId(order.id, item.id, entry.key),
        end,
        minutes,
      };
      if (following) sample.next = following.stage.name;
      else if (closed) sample.next = '';
      samples.push(sample);
    });
  });
  return samples;
};
