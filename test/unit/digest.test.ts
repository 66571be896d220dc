import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { buildBoard } from '../../functions/board/model.js';
import { boardSettings, DEFAULT_BOARD_SETTINGS } from '../../functions/board/settings.js';
import { orderStages } from '../../functions/board/stage-order.js';
import { runDigest } from '../../functions/cli/digest.js';
import type { Snapshot } from '../../functions/core/snapshot.js';
import { silentLogger } from '../../functions/cycle/ports.js';
import { buildDigest, digestIsEmpty, digestSubject, formatDigest } from '../../functions/digest/digest.js';
import { BOARD_NOW, seededSnapshots, writeSeededState } from '../helpers/board-state.js';

const HOUR = 3_600_000;

describe('the digest of a seeded state', () => {
  it('lists overdue, due soon, stalled and received orders, and says completions cannot be dated', () => {
    const digest = buildDigest(
      seededSnapshots(),
      BOARD_NOW,
      DEFAULT_BOARD_SETTINGS,
      '2026-11-29T10:00:00.000Z',
    );
    expect(formatDigest(digest)).toBe(
      [
        'Uphance production digest for 2026-11-30 (UTC)',
        'Changes since 2026-11-29 10:00 UTC.',
        '',
        'Overdue (1)',
        '- PO 1001 · Atelier Nord · due 2026-11-27, 3 days overdue',
        '',
        'Due in the next 7 days (1)',
        '- PO 1002 · Tribal Sportswear Inc. · due 2026-12-03, in 3 days',
        '',
        'Stalled stages (1)',
        '- PO 1001 · Atelier Nord · Sewing in progress for 10 days (limit 7) on 1 line item',
        '',
        'Stages completed since the last digest (0)',
        '- none',
        '  Note: the state records no completion times for some completed stages, so those cannot be dated and are not listed here (the StageCompleted and OrderStageCompleted events report them as they happen).',
        '',
        'Orders received since the last digest (2)',
        '- PO 1005 · Atelier Nord · all received (order updated 2026-11-30 07:00 UTC)',
        '- PO 1008 · Atelier Nord · all received (order updated 2026-11-30 07:00 UTC)',
      ].join('\n'),
    );
    expect(digestIsEmpty(digest)).toBe(false);
    expect(digestSubject(digest)).toBe('Production digest: 1 overdue, 1 due soon, 1 stalled');
  });

  it('lists order stages completed since the last digest where the snapshots record end times', () => {
    const dated = {
      v: 1,
      seq: 2,
      order: { ...(seededSnapshots()[2] as Snapshot).order, id: 3001, number: '3001' },
      stages: { '1': { Cutting: 'c', Sewing: 'c' }, '2': { Cutting: 'c', Sewing: 'p' } },
      ends: {
        '1': { Cutting: BOARD_NOW - 30 * HOUR, Sewing: BOARD_NOW - 2 * HOUR },
        '2': { Cutting: BOARD_NOW - 3 * HOUR },
      },
    } as Snapshot;
    const digest = buildDigest([dated], BOARD_NOW, DEFAULT_BOARD_SETTINGS, '2026-11-29T10:00:00.000Z');
    // Cutting: done on both line items, the later end in the window; Sewing: one line item still going.
    expect(digest.completed.map((l) => l.text)).toEqual(['Cutting completed 2026-11-30 07:00 UTC']);
    expect(digest.undatedCompletions).toBe(0);
    expect(formatDigest(digest)).not.toContain('Note:');
  });

  it('follows the settings: time zone, due-soon days, stall limits per stage (0 turns a signal off)', () => {
    const settings = boardSettings({ DUE_SOON_DAYS: '2', STALL_DAYS_BY_STAGE: 'Sewing=0' });
    const digest = buildDigest(seededSnapshots(), BOARD_NOW, settings, null);
    expect(digest.dueSoon).toEqual([]);
    expect(digest.stalled).toEqual([]);
    expect(digest.firstDigest).toBe(true);
    expect(formatDigest(digest)).toContain('(no earlier digest: the last 24 hours)');
    // At 10:00 UTC it is already 2026-12-01 in Pacific/Kiritimati (UTC+14): one more day overdue there.
    const east = buildDigest(
      seededSnapshots(),
      BOARD_NOW,
      boardSettings({ TIME_ZONE: 'Pacific/Kiritimati' }),
      null,
    );
    expect(east.overdue[0]?.text).toBe('due 2026-11-27, 4 days overdue');
  });

  it('has nothing to say when nothing is late, stalled, completed or received', () => {
    const quiet = seededSnapshots().filter((s) => ['1003', '1009'].includes(s.order.number));
    expect(digestIsEmpty(buildDigest(quiet, BOARD_NOW, DEFAULT_BOARD_SETTINGS, null))).toBe(true);
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
    expect(JSON.parse(await readFile(`${state}.digest.json`, 'utf8')).lastDigestAt).toBe(
      '2026-11-30T10:00:00.000Z',
    );
    expect(await runDigest({ state }, io(BOARD_NOW + HOUR))).toBe(0);
    expect(out[2]).toContain('Changes since 2026-11-30 10:00 UTC.');
    // The orders received at 07:00 were reported by the digest of 10:00, not again.
    expect(out[2]).toContain('Orders received since the last digest (0)');
  });

  it('names a bad setting (exit 2)', async () => {
    const errors: string[] = [];
    const logger = { ...silentLogger, error: (m: string) => errors.push(m) };
    const code = await runDigest({ stallDays: 'soon' }, { env: {}, stdout: () => {}, logger });
    expect(code).toBe(2);
    expect(errors).toEqual(['STALL_DAYS must be a whole number of days, got "soon"']);
    expect(() => boardSettings({ TIME_ZONE: 'Mars/Olympus' })).toThrow(/TIME_ZONE/);
  });
});

describe('the board model', () => {
  it('orders stage names: known ones canonically, others after the known stage before them', () => {
    expect(
      orderStages([
        ['Packing', 'Cutting'],
        ['Cutting', 'Smocking', 'Sewing'],
        ['Quality Check', 'Sewing'],
      ]),
    ).toEqual(['Cutting', 'Smocking', 'Sewing', 'Packing', 'Quality Check']);
  });

  it('counts orders, overdue, due soon and stalled as the digest does', () => {
    const board = buildBoard(seededSnapshots(), BOARD_NOW, DEFAULT_BOARD_SETTINGS);
    expect([board.orders, board.overdue, board.dueSoon, board.stalled]).toEqual([6, 1, 1, 1]);
    expect(board.suppliers).toEqual(['Atelier Nord', 'Tribal Sportswear Inc.']);
    expect(board.seasons).toEqual(['Season 1', 'Season 2']);
  });
});
