import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { PublishCommand } from '@aws-sdk/client-sns';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { emailChannel } from '../../functions/adapters/email-topic.js';
import { slackChannel } from '../../functions/adapters/slack-webhook.js';
import { buildBoard } from '../../functions/board/model.js';
import { runDigest } from '../../functions/cli/digest.js';
import { DEFAULT_SIGNAL_SETTINGS } from '../../functions/core/signals.js';
import type { Snapshot } from '../../functions/core/snapshot.js';
import { orderStages } from '../../functions/core/stage-sequence.js';
import { silentLogger } from '../../functions/cycle/ports.js';
import {
  buildDigest,
  digestIsEmpty,
  digestPeriod,
  digestSubject,
  formatDigest,
} from '../../functions/digest/digest.js';
import { runDigestJob } from '../../functions/digest/job.js';
import type { DigestMark } from '../../functions/digest/marker.js';
import { signalSettings } from '../../functions/runtime/config.js';
import { BOARD_NOW, seededSnapshots, writeSeededState } from '../helpers/board-state.js';

const HOUR = 3_600_000;
const state = (snapshots: Snapshot[]) => ({ snapshots, pendingSince: null });

describe('the digest of a seeded state', () => {
  it('lists overdue, due soon and stalled orders, and the completions and receipts detected in its period', () => {
    const last = { at: '2026-11-29T10:00:00.000Z', until: '2026-11-29T09:45:00.000Z' };
    const digest = buildDigest(state(seededSnapshots()), BOARD_NOW, DEFAULT_SIGNAL_SETTINGS, last);
    expect(formatDigest(digest)).toBe(
      [
        'Uphance production digest for 2026-11-30 (UTC)',
        'Completions and receipts detected from 2026-11-29 09:45 to 2026-11-30 09:45 UTC.',
        '',
        'Overdue (1)',
        '- PO 1001 · Atelier Nord · due 2026-11-27, 3 days overdue',
        '',
        'Due in the next 7 days (1)',
        '- PO 1002 · Tribal Sportswear Inc. · due 2026-12-03, in 3 days',
        '',
        'At risk of finishing late (0)',
        '- none',
        '',
        'Stalled stages (1)',
        '- PO 1001 · Atelier Nord · Sewing in progress for 10 days (limit 7) on 1 line item',
        '',
        // Cutting of PO 1003 was detected before the period; Packing of PO 1004 after it (next digest).
        'Stages completed since the last digest (1)',
        '- PO 1003 · Atelier Nord · Sewing completed on all its line items (detected 2026-11-30 06:00 UTC)',
        '',
        'Orders received since the last digest (2)',
        '- PO 1005 · Atelier Nord · all received (detected 2026-11-30 07:00 UTC)',
        '- PO 1008 · Atelier Nord · all received (detected 2026-11-30 07:30 UTC)',
      ].join('\n'),
    );
    expect(digestIsEmpty(digest)).toBe(false);
    expect(digestSubject(digest)).toBe(
      'Production digest: 1 overdue, 1 due soon, 0 at risk, 1 stalled, 1 completed, 2 received',
    );
  });

  it('reports each completion and receipt in exactly one digest, however the digests fall', () => {
    // Milestones detected at random times; digests at random times after them. Every milestone detected
    // before the last digest's period ends is reported once, in the digest whose period holds its time.
    const base = Date.parse('2026-11-01T00:00:00Z');
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 0, max: 10 * 24 * 60 }), { minLength: 1, maxLength: 30 }),
        fc.uniqueArray(fc.integer({ min: 1, max: 12 * 24 * 60 }), { minLength: 1, maxLength: 15 }),
        (detectedMinutes, digestMinutes) => {
          const snapshots = detectedMinutes.map((minute, i) => ({
            ...(seededSnapshots()[2] as Snapshot),
            order: { ...(seededSnapshots()[2] as Snapshot).order, id: 5000 + i, number: String(5000 + i) },
            rolledUpSeen: { Sewing: base + minute * 60_000 },
            receivedSeen: undefined,
          }));
          let last: DigestMark | null = {
            at: new Date(base).toISOString(),
            until: new Date(base).toISOString(),
          };
          const reported: string[] = [];
          for (const minute of [...digestMinutes].sort((a, b) => a - b)) {
            const digest = buildDigest(
              state(snapshots),
              base + minute * 60_000,
              DEFAULT_SIGNAL_SETTINGS,
              last,
            );
            reported.push(...digest.completed.map((l) => l.number));
            last = { at: digest.generatedAt, until: digest.until };
          }
          const lastUntil = Date.parse(last.until);
          const expected = snapshots
            .filter(
              (s) =>
                (s.rolledUpSeen.Sewing as number) <= lastUntil && (s.rolledUpSeen.Sewing as number) > base,
            )
            .map((s) => s.order.number);
          expect([...reported].sort()).toEqual([...expected].sort());
        },
      ),
    );
  });

  it('leaves what was detected in its last 15 minutes to the next digest (a cycle may still be committing)', () => {
    const first = buildDigest(state(seededSnapshots()), BOARD_NOW, DEFAULT_SIGNAL_SETTINGS, null);
    expect(first.completed.map((l) => `${l.number} ${l.text}`)).toEqual([
      '1003 Sewing completed on all its line items (detected 2026-11-30 06:00 UTC)',
    ]);
    const next = buildDigest(state(seededSnapshots()), BOARD_NOW + HOUR, DEFAULT_SIGNAL_SETTINGS, {
      at: first.generatedAt,
      until: first.until,
    });
    expect(next.completed.map((l) => `${l.number} ${l.text}`)).toEqual([
      '1004 Packing completed on all its line items (detected 2026-11-30 09:55 UTC)',
    ]);
    expect(next.received).toEqual([]);
  });

  it('stops its period before a journaled commit, and never lets it run backwards', () => {
    const last = { at: '2026-11-30T08:00:00.000Z', until: '2026-11-30T07:45:00.000Z' };
    // Settled 15 minutes back, unless a commit still in the journal detected something earlier.
    expect(digestPeriod(BOARD_NOW, last)).toEqual({
      from: BOARD_NOW - 2.25 * HOUR,
      until: BOARD_NOW - HOUR / 4,
    });
    expect(digestPeriod(BOARD_NOW, last, BOARD_NOW - HOUR).until).toBe(BOARD_NOW - HOUR - 1);
    // A journaled commit older than the period's start, or a clock set back: the period is empty, not negative.
    expect(digestPeriod(BOARD_NOW, last, BOARD_NOW - 5 * HOUR).until).toBe(BOARD_NOW - 2.25 * HOUR);
    expect(digestPeriod(BOARD_NOW - 3 * HOUR, last)).toEqual({
      from: BOARD_NOW - 2.25 * HOUR,
      until: BOARD_NOW - 2.25 * HOUR,
    });
    // 1003's Sewing (06:00) waits while a commit detected at 05:00 is journaled.
    const waiting = buildDigest(
      { snapshots: seededSnapshots(), pendingSince: Date.parse('2026-11-30T05:00:00Z') },
      BOARD_NOW,
      DEFAULT_SIGNAL_SETTINGS,
      { at: '2026-11-29T10:00:00.000Z', until: '2026-11-29T09:45:00.000Z' },
    );
    expect(waiting.completed).toEqual([]);
    expect(waiting.until).toBe('2026-11-30T04:59:59.999Z');
    expect(formatDigest(waiting)).toContain(
      'Note: a commit detected at 2026-11-30 05:00 UTC is still in the journal (the poller replays it at its next cycle)',
    );
    expect(
      formatDigest(buildDigest(state(seededSnapshots()), BOARD_NOW, DEFAULT_SIGNAL_SETTINGS, null)),
    ).not.toContain('Note:');
  });

  it('follows the settings: time zone, due-soon days, stall limits per stage (0 turns a signal off)', () => {
    const settings = signalSettings({ DUE_SOON_DAYS: '2', STALL_DAYS_BY_STAGE: 'Sewing=0' });
    const digest = buildDigest(state(seededSnapshots()), BOARD_NOW, settings, null);
    expect(digest.dueSoon).toEqual([]);
    expect(digest.stalled).toEqual([]);
    expect(digest.firstDigest).toBe(true);
    expect(formatDigest(digest)).toContain(
      'from 2026-11-29 09:45 to 2026-11-30 09:45 UTC (no earlier digest: 24 hours)',
    );
    // At 10:00 UTC it is already 2026-12-01 in Pacific/Kiritimati (UTC+14): one more day overdue there.
    const east = buildDigest(
      state(seededSnapshots()),
      BOARD_NOW,
      signalSettings({ TIME_ZONE: 'Pacific/Kiritimati' }),
      null,
    );
    expect(east.overdue[0]?.text).toBe('due 2026-11-27, 4 days overdue');
  });

  it('has nothing to say when nothing is late, stalled, completed or received', () => {
    const quiet = seededSnapshots()
      .filter((s) => ['1003', '1009'].includes(s.order.number))
      .map(({ rolledUpSeen: _, ...s }) => s);
    expect(digestIsEmpty(buildDigest(state(quiet), BOARD_NOW, DEFAULT_SIGNAL_SETTINGS, null))).toBe(true);
  });

  it('the command prints the digest and records its time, so the next one counts from there', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'digest-'));
    const state = join(dir, 'state.json');
    await writeSeededState(state);
    const out: string[] = [];
    const io = (now: number) => ({
      env: {},
      stdout: (t: string) => out.push(t),
      logger: silentLogger,
      now: () => now,
    });
    expect(await runDigest({ state, preview: true }, io(BOARD_NOW))).toBe(0);
    await expect(readFile(`${state}.digest.json`, 'utf8')).rejects.toThrow(/ENOENT/);
    expect(await runDigest({ state }, io(BOARD_NOW))).toBe(0);
    expect(JSON.parse(await readFile(`${state}.digest.json`, 'utf8'))).toMatchObject({
      lastDigestAt: '2026-11-30T10:00:00.000Z',
      until: '2026-11-30T09:45:00.000Z',
    });
    expect(await runDigest({ state }, io(BOARD_NOW + HOUR))).toBe(0);
    expect(out[2]).toContain('detected from 2026-11-30 09:45 to 2026-11-30 10:45 UTC.');
    expect(out[2]).toContain('- PO 1004 · Tribal Sportswear Inc. · Packing completed on all its line items');
    // The orders received at 07:00 were reported by the digest of 10:00, not again.
    expect(out[2]).toContain('Orders received since the last digest (0)');
  });

  it('names a bad setting (exit 2)', async () => {
    const errors: string[] = [];
    const logger = { ...silentLogger, error: (m: string) => errors.push(m) };
    const code = await runDigest({ stallDays: 'soon' }, { env: {}, stdout: () => {}, logger });
    expect(code).toBe(2);
    // The same parser and words as the poller's: the flag given is the one named.
    expect(errors).toEqual(['--stall-days must be a whole number of days (0 turns it off), got "soon"']);
    expect(() => signalSettings({ TIME_ZONE: 'Mars/Olympus' })).toThrow(/TIME_ZONE/);
  });
});

describe('the board model', () => {
  it('orders stage names as most line items go through them; where they do not tell, the account, then known places', () => {
    expect(
      orderStages([
        ['Cutting', 'Sewing', 'Packing'],
        ['Cutting', 'Sewing', 'Packing'],
        // One line item disagrees (its times missing, say): outvoted.
        ['Packing', 'Cutting'],
        // A name of this account's own, placed by the line item that has it.
        ['Cutting', 'Smocking', 'Sewing'],
        // No line item tells where Quality Check goes: its known place.
        ['Quality Check'],
      ]),
    ).toEqual(['Cutting', 'Smocking', 'Sewing', 'Packing', 'Quality Check']);
    // Line items that all wash before sewing are believed over the known places.
    expect(orderStages([['Washing', 'Sewing'], ['Sewing']])).toEqual(['Washing', 'Sewing']);
    // Two names no line item orders: the account's other orders do (here Trim before Prep).
    const account = (a: string, b: string) => (a === 'Trim' ? -1 : b === 'Trim' ? 1 : 0);
    expect(orderStages([['Prep'], ['Trim']])).toEqual(['Prep', 'Trim']);
    expect(orderStages([['Prep'], ['Trim']], account)).toEqual(['Trim', 'Prep']);
  });

  it('counts orders, overdue, due soon and stalled as the digest does', () => {
    const board = buildBoard(seededSnapshots(), BOARD_NOW, DEFAULT_SIGNAL_SETTINGS);
    expect([board.orders, board.overdue, board.dueSoon, board.stalled]).toEqual([6, 1, 1, 1]);
    expect(board.suppliers).toEqual(['Atelier Nord', 'Tribal Sportswear Inc.']);
    expect(board.seasons).toEqual(['Season 1', 'Season 2']);
  });
});

describe('the API’s strings in the digest', () => {
  const HOSTILE = '<!channel> URGENT <https://evil.example/login|Uphance: re-enter your password>';
  const hostile = (supplier: string, number = '1001') =>
    seededSnapshots().map((s) =>
      s.order.number === '1001' ? { ...s, order: { ...s.order, companyName: supplier, number } } : s,
    );
  const marker = { last: async () => null, record: async () => {} };

  it('are escaped for Slack: a supplier named <!channel> pings no one and shows no disguised link', async () => {
    const posted: string[] = [];
    const fetchImpl = (async (_url: string, init: RequestInit) => {
      posted.push(JSON.parse(String(init.body)).text);
      return new Response('ok');
    }) as typeof fetch;
    const outcome = await runDigestJob({
      state: async () => ({ snapshots: hostile(HOSTILE, '1001 <@U024BE7LH>'), pendingSince: null }),
      marker,
      channels: [slackChannel('https://hooks.slack.com/services/T/B/X', fetchImpl)],
      settings: DEFAULT_SIGNAL_SETTINGS,
      now: () => BOARD_NOW,
      whenEmpty: false,
    });
    expect(outcome.sent).toBe(true);
    const [text] = posted;
    // Overdue and stalled: the supplier appears twice, as typed, and no `<` reaches Slack.
    expect(
      text?.split(
        '&lt;!channel&gt; URGENT &lt;https://evil.example/login|Uphance: re-enter your password&gt;',
      ),
    ).toHaveLength(3);
    expect(text).toContain('- PO 1001 &lt;@U024BE7LH&gt; · ');
    expect(text).not.toMatch(/[<>]/);
    // The plain text (email, terminal) keeps the name as typed.
    expect(
      formatDigest(buildDigest(state(hostile(HOSTILE)), BOARD_NOW, DEFAULT_SIGNAL_SETTINGS, null)),
    ).toContain(`- PO 1001 · ${HOSTILE} · due 2026-11-27, 3 days overdue`);
  });

  it('stay on their line in the plain text: no line break or terminal escape gets through', () => {
    const text = formatDigest(
      buildDigest(
        state(
          hostile(
            'Atelier\nOrders received since the last digest (9)\r\n- PO 666\u001b[2J\u009b31m\u202eNord',
          ),
        ),
        BOARD_NOW,
        DEFAULT_SIGNAL_SETTINGS,
        null,
      ),
    );
    const plain = formatDigest(
      buildDigest(state(seededSnapshots()), BOARD_NOW, DEFAULT_SIGNAL_SETTINGS, null),
    );
    expect(text.split('\n')).toHaveLength(plain.split('\n').length);
    expect(text).toContain(
      '- PO 1001 · Atelier Orders received since the last digest (9)  - PO 666\uFFFD[2J\uFFFD31m\uFFFDNord · due 2026-11-27',
    );
    expect(text).not.toMatch(/(?!\n)[\p{Cc}\u202e]/u);
  });
});

describe('the digest by email', () => {
  it('has a subject SNS takes, however many organisations and lines: one ASCII line under 100 characters', async () => {
    const sent: PublishCommand[] = [];
    const big = buildDigest(state(seededSnapshots()), BOARD_NOW, DEFAULT_SIGNAL_SETTINGS, null, 35802);
    for (const list of [big.overdue, big.dueSoon, big.stalled, big.completed, big.received])
      list.push(
        ...Array.from({ length: 120 }, () => list[0] ?? big.overdue[0]).filter((l) => l !== undefined),
      );
    expect(digestSubject(big).length).toBeGreaterThan(100);
    const client = { send: async (command: PublishCommand) => sent.push(command) };
    await emailChannel(
      'arn:aws:sns:eu-west-1:123456789012:digest',
      client as never,
    )({
      subject: digestSubject(big),
      text: formatDigest(big),
    });
    const subject = sent[0]?.input.Subject ?? '';
    expect(subject).toMatch(/^Production digest \(organisation 35802\): 121 overdue, [\x20-\x7e]+\.\.\.$/);
    expect(subject.length).toBe(99);
    expect(sent[0]?.input.Message).toBe(formatDigest(big));
  });
});
