import { describe, expect, it } from 'vitest';
import { buildBoard } from '../../functions/board/model.js';
import { renderBoard } from '../../functions/board/render.js';
import { runBoard } from '../../functions/cli/board.js';
import { DEFAULT_SIGNAL_SETTINGS } from '../../functions/core/signals.js';
import type { Snapshot } from '../../functions/core/snapshot.js';
import { silentLogger } from '../../functions/cycle/ports.js';
import { buildDigest, digestSubject, formatDigest } from '../../functions/digest/digest.js';
import { BOARD_NOW, ref, snap } from '../helpers/board-state.js';
import { tempStatePath } from '../helpers/harness.js';
import { historyWith, times } from '../helpers/history.js';

/**
 * The forecast on the board and in the digest (docs/contract.md section 1c), on the seeded board's clock
 * (2026-11-30 10:00 UTC): Sewing takes 12 days at Atelier Nord (supplier 1) and 3 at Tribal (supplier 2),
 * Packing 2 days everywhere.
 */
const DAY = 86_400_000;
const history = () =>
  historyWith(
    { stage: 'Sewing', supplier: 1, days: times(8, 12), next: 'Packing' },
    { stage: 'Sewing', supplier: 2, days: times(8, 3), next: 'Packing' },
    { stage: 'Packing', supplier: 1, days: times(6, 2), next: '' },
    { stage: 'Packing', supplier: 2, days: times(6, 2), next: '' },
  );

const sewing = () => ({ '11': { Cutting: 'c', Sewing: 'p', Packing: 'n' } }) satisfies Snapshot['stages'];

const snapshots = (): Snapshot[] => [
  // Atelier Nord, Sewing since yesterday, due in 5 days: forecast 2026-12-13 (11-29 + 12 + 2), 8 days late.
  snap(ref(3001, { dueDate: '2026-12-05' }), sewing(), {
    starts: { '11': { Sewing: BOARD_NOW - DAY } },
  }),
  // Tribal, the same: forecast 2026-12-04, on time.
  snap(ref(3002, { dueDate: '2026-12-05', companyId: 2, companyName: 'Tribal Sportswear Inc.' }), sewing(), {
    starts: { '11': { Sewing: BOARD_NOW - DAY } },
  }),
  // A stage no order of the account has completed yet: no forecast.
  snap(
    ref(3003, { dueDate: '2026-12-05', companyId: 9, companyName: '<b>Unknown & Co</b>' }),
    { '31': { Smocking: 'p' } },
    { starts: { '31': { Smocking: BOARD_NOW - DAY } } },
  ),
];

describe('the board shows the forecast', () => {
  it('each card its forecast completion date and basis; the late one marked at risk', () => {
    const board = buildBoard(snapshots(), BOARD_NOW, DEFAULT_SIGNAL_SETTINGS, history());
    const cards = new Map(board.columns.flatMap((c) => c.cards).map((c) => [c.number, c]));
    expect(cards.get('2001')?.forecast).toMatchObject({
      atRisk: true,
      lateDays: 8,
      view: { date: '2026-12-13', basis: { source: 'supplier', samples: 6 }, stage: { name: 'Sewing' } },
    });
    expect(cards.get('2002')?.forecast).toMatchObject({
      atRisk: false,
      lateDays: -1,
      view: { date: '2026-12-04' },
    });
    expect(cards.get('2003')?.forecast).toBeNull();
    expect(board.atRisk).toBe(1);
    // At risk sorts before due soon within a column.
    expect(board.columns.find((c) => c.name === 'Sewing')?.cards.map((c) => c.number)).toEqual([
      '2001',
      '2002',
    ]);
    const html = renderBoard(board);
    const card = (number: string) =>
      html.slice(html.indexOf(`data-order="${number}"`)).split('</article>')[0] ?? '';
    expect(card('2001')).toContain('class="flag risk">At risk: ends about 2026-12-13 (8 days late)</li>');
    expect(card('2001')).toContain('data-risk="at-risk"');
    expect(card('2001')).toMatch(/<time datetime="2026-12-13">2026-12-13<\/time> \(8 days late\)/);
    expect(card('2001')).toContain('Sewing usually 12 days; supplier&#39;s history, 6+ durations a stage');
    expect(card('2002')).toContain('(1 day early)');
    expect(card('2002')).not.toContain('flag risk');
    expect(card('2003')).toContain('<dt>Forecast</dt><dd>too little history yet</dd>');
    expect(html).toContain('<strong>1</strong> at risk of finishing late');
    // Every API string is escaped: a supplier's name, a stage name.
    expect(html).not.toContain('<b>Unknown');
    expect(html).toContain('&lt;b&gt;Unknown &amp; Co&lt;/b&gt;');
  });

  it('escapes a hostile stage name in the basis', () => {
    const name = '<img src=x onerror=alert(1)>';
    const hostile = historyWith({ stage: name, supplier: 1, days: times(6, 12), next: '' });
    const board = buildBoard(
      [
        snap(
          ref(3004, { dueDate: '2026-12-05' }),
          { '11': { [name]: 'p' } },
          { starts: { '11': { [name]: BOARD_NOW } } },
        ),
      ],
      BOARD_NOW,
      DEFAULT_SIGNAL_SETTINGS,
      hostile,
    );
    const html = renderBoard(board);
    expect(html).not.toContain('<img');
    expect(html).toContain('&lt;img src=x onerror=alert(1)&gt; usually 12 days');
  });

  it('the board command reads the stage history of the state', async () => {
    const path = tempStatePath();
    const { writeFile } = await import('node:fs/promises');
    const state = {
      format: 'uphance-notifier-state',
      version: 2,
      checkpoint: null,
      snapshots: Object.fromEntries(snapshots().map((s) => [String(s.order.id), { rev: 1, snapshot: s }])),
      journal: [],
      seals: [],
      setAside: [],
      history: history().packed(),
    };
    await writeFile(path, JSON.stringify(state));
    let html = '';
    const code = await runBoard(
      { state: path },
      { env: {}, stdout: (text) => (html = text), logger: silentLogger, now: () => BOARD_NOW },
    );
    expect(code).toBe(0);
    expect(html).toContain('At risk: ends about 2026-12-13 (8 days late)');
  });
});

describe('the digest lists the orders at risk', () => {
  it('with their due date, forecast and why', () => {
    const digest = buildDigest(
      { snapshots: snapshots(), pendingSince: null, history: history() },
      BOARD_NOW,
      DEFAULT_SIGNAL_SETTINGS,
      null,
    );
    expect(digest.atRisk.map((l) => [l.number, l.text])).toEqual([
      [
        '2001',
        "due 2026-12-05, forecast 2026-12-13: 8 days late (Sewing usually takes 12 days, the supplier's history)",
      ],
    ]);
    expect(formatDigest(digest)).toContain(
      "At risk of finishing late (1)\n- PO 2001 · Atelier Nord · due 2026-12-05, forecast 2026-12-13: 8 days late (Sewing usually takes 12 days, the supplier's history)\n",
    );
    expect(digestSubject(digest)).toContain('1 at risk');
    // Without the history, nothing is at risk (no forecast).
    expect(
      buildDigest({ snapshots: snapshots(), pendingSince: null }, BOARD_NOW, DEFAULT_SIGNAL_SETTINGS, null)
        .atRisk,
    ).toEqual([]);
  });

  it('RISK_DAYS sets the threshold as for the event: 9 days lets the 8-day late order go', () => {
    const settings = { ...DEFAULT_SIGNAL_SETTINGS, riskDays: 9 };
    const state = { snapshots: snapshots(), pendingSince: null, history: history() };
    expect(buildDigest(state, BOARD_NOW, settings, null).atRisk).toEqual([]);
  });
});
