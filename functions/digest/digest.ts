import { seasonOf, supplierOf } from '../board/model.js';
import type { OrderStatus } from '../board/order-status.js';
import { dayNumber, isCompleted, statusOf } from '../board/order-status.js';
import type { BoardSettings } from '../board/settings.js';
import type { Snapshot } from '../core/snapshot.js';

/** The daily digest, built from snapshots, the last digest's time and a clock: no I/O. */
export interface DigestLine {
  number: string;
  supplier: string;
  season: string;
  text: string;
}

export interface Digest {
  generatedAt: string;
  timeZone: string;
  /** ISO instant from which "since the last digest" counts (the last digest, or 24 hours back). */
  since: string;
  firstDigest: boolean;
  dueSoonDays: number;
  overdue: DigestLine[];
  dueSoon: DigestLine[];
  stalled: DigestLine[];
  completed: DigestLine[];
  received: DigestLine[];
  /** Completed stages whose completion the state does not date (snapshots record no end time for them). */
  undatedCompletions: number;
}

const DAY_MS = 86_400_000;
const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;
const stamp = (ms: number) => new Date(ms).toISOString().replace('T', ' ').slice(0, 16);

const line = (status: OrderStatus, text: string): DigestLine => ({
  number: status.order.number,
  supplier: supplierOf(status),
  season: seasonOf(status),
  text,
});

/** Order-level completions: every line item having the stage has it completed; dated by the latest end. */
const completions = (status: OrderStatus) => {
  const byName = new Map<string, { done: boolean; latest: number | null; undated: boolean }>();
  for (const item of status.lineItems) {
    for (const stage of item.stages) {
      const entry = byName.get(stage.name) ?? { done: true, latest: null, undated: false };
      entry.done &&= isCompleted(stage);
      if (isCompleted(stage)) {
        if (stage.endMs === null) entry.undated = true;
        else entry.latest = Math.max(entry.latest ?? stage.endMs, stage.endMs);
      }
      byName.set(stage.name, entry);
    }
  }
  return [...byName].filter(([, e]) => e.done).map(([name, e]) => ({ name, ...e }));
};

export const buildDigest = (
  snapshots: Iterable<Snapshot>,
  now: number,
  settings: BoardSettings,
  lastDigestAt: string | null,
): Digest => {
  const sinceMs = lastDigestAt ? Date.parse(lastDigestAt) : now - DAY_MS;
  const statuses = [...snapshots].filter((s) => !s.removed).map((s) => statusOf(s, now, settings));
  const digest: Digest = {
    generatedAt: new Date(now).toISOString(),
    timeZone: settings.timeZone,
    since: new Date(sinceMs).toISOString(),
    firstDigest: lastDigestAt === null,
    dueSoonDays: settings.dueSoonDays,
    overdue: [],
    dueSoon: [],
    stalled: [],
    completed: [],
    received: [],
    undatedCompletions: 0,
  };
  const byDue = [...statuses].sort((a, b) => (a.order.dueDate ?? '').localeCompare(b.order.dueDate ?? ''));
  for (const s of byDue) {
    if (s.due.kind === 'overdue')
      digest.overdue.push(line(s, `due ${s.due.date}, ${plural(s.due.days, 'day')} overdue`));
    if (s.due.kind === 'soon')
      digest.dueSoon.push(
        line(s, `due ${s.due.date}, ${s.due.days === 0 ? 'today' : `in ${plural(s.due.days, 'day')}`}`),
      );
  }
  for (const s of statuses) {
    if (s.order.status === 'cancelled') continue;
    const stalls = new Map<string, { days: number; limitDays: number; items: number }>();
    for (const stall of s.stalls) {
      const e = stalls.get(stall.stage) ?? { days: 0, limitDays: stall.limitDays, items: 0 };
      stalls.set(stall.stage, {
        days: Math.max(e.days, stall.days),
        limitDays: stall.limitDays,
        items: e.items + 1,
      });
    }
    for (const [stage, e] of stalls) {
      digest.stalled.push(
        line(
          s,
          `${stage} in progress for ${plural(e.days, 'day')} (limit ${e.limitDays}) on ${plural(e.items, 'line item')}`,
        ),
      );
    }
    for (const c of completions(s)) {
      if (c.undated) digest.undatedCompletions++;
      else if (c.latest !== null && c.latest > sinceMs && c.latest <= now)
        digest.completed.push(line(s, `${c.name} completed ${stamp(c.latest)} UTC`));
    }
    if (s.received && s.updatedMs !== null && s.updatedMs > sinceMs && s.updatedMs <= now)
      digest.received.push(line(s, `all received (order updated ${stamp(s.updatedMs)} UTC)`));
  }
  return digest;
};

/** Whether the digest has anything to say (the notes alone are not news). */
export const digestIsEmpty = (d: Digest): boolean =>
  d.overdue.length + d.dueSoon.length + d.stalled.length + d.completed.length + d.received.length === 0;

const MAX_LINES = 25;

const section = (title: string, lines: DigestLine[], notes: string[] = []): string[] => {
  const out = [`${title} (${lines.length})`];
  if (lines.length === 0) out.push('- none');
  for (const l of lines.slice(0, MAX_LINES)) out.push(`- PO ${l.number} · ${l.supplier} · ${l.text}`);
  if (lines.length > MAX_LINES) out.push(`- … and ${lines.length - MAX_LINES} more`);
  return [...out, ...notes.map((n) => `  ${n}`), ''];
};

/** The digest as short plain text (Slack, email and the terminal alike). */
export const formatDigest = (d: Digest): string => {
  const today = new Date(dayNumber(Date.parse(d.generatedAt), d.timeZone) * DAY_MS)
    .toISOString()
    .slice(0, 10);
  const since = `${d.since.replace('T', ' ').slice(0, 16)} UTC${d.firstDigest ? ' (no earlier digest: the last 24 hours)' : ''}`;
  const undated =
    d.undatedCompletions > 0
      ? [
          'Note: the state records no completion times for some completed stages, so those cannot be dated and are not listed here (the StageCompleted and OrderStageCompleted events report them as they happen).',
        ]
      : [];
  return [
    `Uphance production digest for ${today} (${d.timeZone})`,
    `Changes since ${since}.`,
    '',
    ...section('Overdue', d.overdue),
    ...section(`Due in the next ${plural(d.dueSoonDays, 'day')}`, d.dueSoon),
    ...section('Stalled stages', d.stalled),
    ...section('Stages completed since the last digest', d.completed, undated),
    ...section('Orders received since the last digest', d.received),
  ]
    .join('\n')
    .trimEnd();
};

export const digestSubject = (d: Digest): string =>
  `Production digest: ${d.overdue.length} overdue, ${d.dueSoon.length} due soon, ${d.stalled.length} stalled`;
