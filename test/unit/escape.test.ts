import { describe, expect, it } from 'vitest';
import { StdoutSink } from '../../functions/adapters/stdout-sink.js';
import { buildBoard } from '../../functions/board/model.js';
import { renderBoard } from '../../functions/board/render.js';
import { stderrLogger } from '../../functions/cli/logger.js';
import { DEFAULT_SIGNAL_SETTINGS } from '../../functions/core/signals.js';
import { emailSubject, htmlText, plainText, slackText } from '../../functions/messages/escape.js';
import { exampleEvents } from '../../scripts/event-examples.js';
import { BOARD_NOW, seededSnapshots } from '../helpers/board-state.js';

/** What a terminal would act on: ESC, CSI, BEL and every other C0/C1 control but the line feed. */
const RAW_CONTROL = /(?!\n)[\p{Cc}\u202a-\u202e\u2066-\u2069]/u;
const TERMINAL = 'Atelier\u001b[2J\u001b]8;;https://evil.example\u0007Nord\u009b31m\r\n\u202eevil';

describe('one escaping function per format', () => {
  it('plain text: line breaks and tabs read as a space, other controls and bidi overrides as U+FFFD', () => {
    expect(plainText(TERMINAL)).toBe(
      'Atelier\uFFFD[2J\uFFFD]8;;https://evil.example\uFFFDNord\uFFFD31m  \uFFFDevil',
    );
    expect(plainText('a\tb\u2028c')).toBe('a b c');
    expect(plainText('Tribal Sportswear Inc. · é <b>')).toBe('Tribal Sportswear Inc. · é <b>');
  });

  it('Slack mrkdwn: &, < and > as entities, nothing else touched', () => {
    expect(slackText('<!channel> URGENT <https://evil.example/login|Uphance: re-enter your password>')).toBe(
      '&lt;!channel&gt; URGENT &lt;https://evil.example/login|Uphance: re-enter your password&gt;',
    );
    expect(slackText('A & B *bold* `code`')).toBe('A &amp; B *bold* `code`');
  });

  it('HTML: markup characters as entities, controls (raw terminal escapes) as U+FFFD', () => {
    expect(htmlText(`<img src=x onerror="alert('1')"> & co`)).toBe(
      '&lt;img src=x onerror=&quot;alert(&#39;1&#39;)&quot;&gt; &amp; co',
    );
    expect(htmlText('a\u001b[31mb\u0000c\td\ne')).toBe('a\uFFFD[31mb\uFFFDc\td\ne');
    // A right-to-left override would show a supplier's name (and what follows it) backwards.
    expect(htmlText('Atelier \u202eDRON')).toBe('Atelier \uFFFDDRON');
  });

  it('email subjects: one line of printable ASCII under 100 characters, whatever the text', () => {
    expect(emailSubject('PO 1308\r\nBcc: victim@example.com · Sewing → done…')).toBe(
      'PO 1308??Bcc: victim@example.com - Sewing -> done...',
    );
    const long = emailSubject(`PO 1 · ${'Ünïcödé '.repeat(30)}\u0000`);
    expect(long).toMatch(/^[\x20-\x7e]{99}$/);
    expect(long.endsWith('...')).toBe(true);
  });
});

describe('the terminal', () => {
  it('prints an event line with its own colours only: the API’s escapes are neutralised', async () => {
    const lines: string[] = [];
    const sink = new StdoutSink({ source: 'test', pretty: true, write: (line) => lines.push(line) });
    const event = structuredClone(exampleEvents().StageCompleted);
    event.detail.order.companyName = TERMINAL;
    event.detail.order.number = '1308\u001b[1A\u001b[2K';
    await sink.publish([event]);
    const [line] = lines;
    // The sink's own colour codes, at the start and after the detail-type, and nothing else.
    const ESC = '\u001b';
    expect(line?.startsWith(`${ESC}[32m`)).toBe(true);
    const own = (line ?? '').slice(`${ESC}[32m`.length).replace(`${ESC}[0m`, '');
    expect(own).toMatch(/^StageCompleted +#\d+ PO 1308\uFFFD\[1A\uFFFD\[2K · /);
    expect(own).not.toMatch(RAW_CONTROL);
    expect(own).toContain('Atelier\uFFFD[2J');
  });

  it('prints a log line as one line of plain text, whatever it quotes', () => {
    const lines: string[] = [];
    const logger = stderrLogger({ write: (line) => lines.push(line) });
    logger.warn(`skipping order ${TERMINAL}`, { supplier: TERMINAL, detail: { name: TERMINAL } });
    expect(lines).toHaveLength(1);
    expect(lines[0]).not.toMatch(/[\p{Cc}\u202e]/u);
    expect(lines[0]).toMatch(/ WARN skipping order Atelier\uFFFD\[2J.* supplier=Atelier\uFFFD\[2J/);
  });
});

describe('the board', () => {
  it('escapes every string from the API: names, numbers, stages and dates', () => {
    const hostile = '<script>alert(1)</script>"\'&\u001b[2J';
    const snapshots = seededSnapshots().map((s) =>
      s.order.number === '1001'
        ? {
            ...s,
            order: { ...s.order, companyName: hostile, number: hostile, dueDate: `2026-11-27${hostile}` },
            stages: { '11': { [`Sewing${hostile}`]: 'p' } },
          }
        : s,
    );
    const html = renderBoard(buildBoard(snapshots, BOARD_NOW, DEFAULT_SIGNAL_SETTINGS));
    const escaped = '&lt;script&gt;alert(1)&lt;/script&gt;&quot;&#39;&amp;\uFFFD[2J';
    expect(html).not.toContain('<script>alert');
    expect(html).not.toMatch(/(?![\n])\p{Cc}/u);
    expect(html).toContain(`data-supplier="${escaped}"`);
    expect(html).toContain(`<option value="${escaped}">${escaped}</option>`);
    expect(html).toContain(`<h3 id="po-2001">PO ${escaped}</h3>`);
    expect(html).toContain(`Sewing${escaped}`);
    // One script element: the board's own.
    expect(html.match(/<script>/g)).toHaveLength(1);
  });
});
