import { dayNumber } from '../core/calendar.js';
import type { StageKnowledge } from '../core/history.js';
import type { OrderStatus } from '../core/order-status.js';
import { seasonOf, statusOf, supplierOf } from '../core/order-status.js';
import type { SignalSettings } from '../core/signals.js';
import type { Snapshot } from '../core/snapshot.js';
import { plainText } from '../messages/escape.js';
import type { DigestMark } from './marker.js';

/** The daily digest, built from snapshots, the last digest's time and a clock: no I/O. */
interface DigestLine {
  number: string;
  supplier: string;
  season: string;
  text: string;
}

export interface Digest {
  generatedAt: string;
  timeZone: string;
  /** The organisation whose state it summarises (absent: the token's own, no organisation configured). */
  organisationId?: number;
  /** The period (ISO instants, from excluded, until included) whose completions and receipts it reports. */
  from: string;
  until: string;
  /** When a commit still in the journal held the period back: its earliest detection (ISO), else null. */
  heldBackBy: string | null;
  firstDigest: boolean;
  dueSoonDays: number;
  overdue: DigestLine[];
  dueSoon: DigestLine[];
  /** Forecast to finish production at least riskDays after the due date (docs/contract.md section 1c). */
  atRisk: DigestLine[];
  stalled: DigestLine[];
  completed: DigestLine[];
  received: DigestLine[];
}

/**
 * How far the reported period stops short of the digest's own time. A cycle commits what it detected at
 * most this long after detecting it (a deployed cycle ends before its Lambda's 15-minute limit), so a
 * completion detected in the period is in the state when the digest reads it, and one detected after is
 * left to the next digest: each is reported once.
 */
export const SETTLE_MS = 15 * 60_000;

const DAY_MS = 86_400_000;
const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;
const stamp = (ms: number) => new Date(ms).toISOString().replace('T', ' ').slice(0, 16);

const line = (status: OrderStatus, text: string): DigestLine => ({
  number: status.order.number,
  supplier: supplierOf(status),
  season: seasonOf(status),
  text,
});

/** What the digest reads of a state: the snapshots, and the earliest detection still in the journal. */
export interface DigestState {
  snapshots: Iterable<Snapshot>;
  /**
   * Epoch ms of the earliest event in commits still journaled (written, not yet applied or cleared), or
   * null. Such a commit (one a crash left for the next cycle to replay) may carry detections older than
   * SETTLE_MS: the period stops before them, so that they are reported once applied.
   */
  pendingSince: number | null;
  /** The stage history, for the forecasts (absent: no order is listed at risk). */
  history?: StageKnowledge;
}

/**
 * The period a digest at `now` reports: from where the last one stopped (24 hours back the first time) to
 * SETTLE_MS before now, and before any detection still journaled; never ending before it starts, so that a
 * clock set back never reports a period twice.
 */
export const digestPeriod = (
  now: number,
  last: DigestMark | null,
  pendingSince: number | null = null,
): { from: number; until: number } => {
  const settled = now - SETTLE_MS;
  const from = last ? Date.parse(last.until) : settled - DAY_MS;
  const until = pendingSince === null ? settled : Math.min(settled, pendingSince - 1);
  return { from, until: Math.max(from, until) };
};

export const buildDigest = (
  state: DigestState,
  now: number,
  settings: SignalSettings,
  last: DigestMark | null,
  organisationId?: number,
): Digest => {
  const { from, until } = digestPeriod(now, last, state.pendingSince);
  const inPeriod = (ms: number) => ms > from && ms <= until;
  const statuses = [...state.snapshots]
    .filter((s) => !s.removed)
    .map((s) => statusOf(s, now, settings, state.history));
  const digest: Digest = {
    generatedAt: new Date(now).toISOString(),
    timeZone: settings.timeZone,
    ...(organisationId === undefined ? {} : { organisationId }),
    from: new Date(from).toISOString(),
    until: new Date(until).toISOString(),
    heldBackBy:
      state.pendingSince !== null && state.pendingSince <= now - SETTLE_MS
        ? new Date(state.pendingSince).toISOString()
        : null,
    firstDigest: last === null,
    dueSoonDays: settings.dueSoonDays,
    overdue: [],
    dueSoon: [],
    atRisk: [],
    stalled: [],
    completed: [],
    received: [],
  };
  const byDue = [...statuses].sort((a, b) => (a.order.dueDate ?? '').localeCompare(b.order.dueDate ?? ''));
  for (const s of byDue) {
    if (s.due.kind === 'overdue')
      digest.overdue.push(line(s, `due ${s.due.date}, ${plural(s.due.days, 'day')} overdue`));
    if (s.due.kind === 'soon')
      digest.dueSoon.push(
        line(s, `due ${s.due.date}, ${s.due.days === 0 ? 'today' : `in ${plural(s.due.days, 'day')}`}`),
      );
    if (s.forecast?.atRisk && s.due.kind !== 'none' && s.forecast.lateDays !== null) {
      const { view, lateDays } = s.forecast;
      const expected = Math.round((view.stage.expectedMs / DAY_MS) * 10) / 10;
      digest.atRisk.push(
        line(
          s,
          `due ${s.due.date}, forecast ${view.date}: ${plural(lateDays, 'day')} late (${view.stage.name} usually takes ${plural(expected, 'day')}, ${view.basis.source === 'supplier' ? "the supplier's" : "the account's"} history)`,
        ),
      );
    }
  }
  const completed: Array<{ at: number; line: DigestLine }> = [];
  const received: Array<{ at: number; line: DigestLine }> = [];
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
    for (const c of s.completionsSeen) {
      if (inPeriod(c.seenMs))
        completed.push({
          at: c.seenMs,
          line: line(s, `${c.stage} completed on all its line items (detected ${stamp(c.seenMs)} UTC)`),
        });
    }
    if (s.received && s.receivedSeenMs !== null && inPeriod(s.receivedSeenMs))
      received.push({
        at: s.receivedSeenMs,
        line: line(s, `all received (detected ${stamp(s.receivedSeenMs)} UTC)`),
      });
  }
  // Oldest first; ties by PO number, then text, so that the digest reads the same every time.
  const ordered = (list: Array<{ at: number; line: DigestLine }>) =>
    list
      .sort(
        (a, b) =>
          a.at - b.at || a.line.number.localeCompare(b.line.number) || a.line.text.localeCompare(b.line.text),
      )
      .map((e) => e.line);
  digest.completed = ordered(completed);
  digest.received = ordered(received);
  return digest;
};

/** Whether the digest has anything to say. */
export const digestIsEmpty = (d: Digest): boolean =>
  d.overdue.length +
    d.dueSoon.length +
    d.atRisk.length +
    d.stalled.length +
    d.completed.length +
    d.received.length ===
  0;

const MAX_LINES = 25;

const section = (title: string, lines: DigestLine[]): string[] => {
  const out = [`${title} (${lines.length})`];
  if (lines.length === 0) out.push('- none');
  // The API's strings (PO number, supplier, stage names) stay on their line: the digest is plain text.
  for (const l of lines.slice(0, MAX_LINES))
    out.push(plainText(`- PO ${l.number} · ${l.supplier} · ${l.text}`));
  if (lines.length > MAX_LINES) out.push(`- … and ${lines.length - MAX_LINES} more`);
  return [...out, ''];
};

/**
 * The digest as short plain text (email and the terminal; a Slack channel escapes it for mrkdwn with
 * slackText).
 */
export const formatDigest = (d: Digest): string => {
  const today = new Date(dayNumber(Date.parse(d.generatedAt), d.timeZone) * DAY_MS)
    .toISOString()
    .slice(0, 10);
  const period = `${stamp(Date.parse(d.from))} to ${stamp(Date.parse(d.until))} UTC${d.firstDigest ? ' (no earlier digest: 24 hours)' : ''}`;
  return [
    `Uphance production digest for ${today} (${d.timeZone})${d.organisationId === undefined ? '' : `, organisation ${d.organisationId}`}`,
    `Completions and receipts detected from ${period}.`,
    '',
    ...section('Overdue', d.overdue),
    ...section(`Due in the next ${plural(d.dueSoonDays, 'day')}`, d.dueSoon),
    ...section('At risk of finishing late', d.atRisk),
    ...section('Stalled stages', d.stalled),
    ...section('Stages completed since the last digest', d.completed),
    ...section('Orders received since the last digest', d.received),
    ...(d.heldBackBy === null
      ? []
      : [
          `Note: a commit detected at ${stamp(Date.parse(d.heldBackBy))} UTC is still in the journal (the poller replays it at its next cycle); what it holds will be in a later digest. If this note stays, the poller's logs say why.`,
        ]),
  ]
    .join('\n')
    .trimEnd();
};

export const digestSubject = (d: Digest): string =>
  `Production digest${d.organisationId === undefined ? '' : ` (organisation ${d.organisationId})`}: ${d.overdue.length} overdue, ${d.dueSoon.length} due soon, ${d.atRisk.length} at risk, ${d.stalled.length} stalled, ${d.completed.length} completed, ${d.received.length} received`;
