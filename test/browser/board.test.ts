/// <reference lib="dom" />
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Browser, Page } from 'playwright-core';
import { chromium } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runBoard } from '../../functions/cli/board.js';
import { silentLogger } from '../../functions/cycle/ports.js';
import { BOARD_NOW, seededSnapshots, writeSeededState } from '../helpers/board-state.js';

/**
 * The board in a real headless browser: Debian's chromium driven by playwright-core (no browser download).
 * CHROMIUM_PATH overrides the executable. A missing chromium fails these tests: .ci/run installs it.
 */
const executablePath = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const OUTPUT = join(process.cwd(), 'test-output');

let browser: Browser;
let boardUrl: string;

beforeAll(async () => {
  if (!existsSync(executablePath)) {
    throw new Error(
      `chromium not found at ${executablePath}: install it (apt-get install -y chromium; .ci/run does) or set CHROMIUM_PATH`,
    );
  }
  const dir = await mkdtemp(join(tmpdir(), 'board-'));
  await writeSeededState(join(dir, 'state.json'));
  const out = join(dir, 'board.html');
  const code = await runBoard(
    { state: join(dir, 'state.json'), out },
    { env: {}, stdout: () => {}, logger: silentLogger, now: () => BOARD_NOW },
  );
  expect(code).toBe(0);
  boardUrl = pathToFileURL(out).href;
  browser = await chromium.launch({ executablePath, args: ['--no-sandbox'] });
});

afterAll(async () => {
  await browser?.close();
});

const open = async (
  hash = '',
  javaScriptEnabled = true,
  url = boardUrl,
): Promise<{ page: Page; requests: string[] }> => {
  const context = await browser.newContext({ javaScriptEnabled, viewport: { width: 1500, height: 900 } });
  const page = await context.newPage();
  const requests: string[] = [];
  page.on('request', (request) => requests.push(request.url()));
  await page.goto(`${url}${hash}`);
  return { page, requests };
};

/** A board of the seeded state with other supplier names, written to a file of its own. */
const boardWith = async (suppliers: Record<string, string>): Promise<string> => {
  const dir = await mkdtemp(join(tmpdir(), 'board-'));
  const snapshots = seededSnapshots().map((s) => {
    const name = suppliers[s.order.number];
    return name === undefined ? s : { ...s, order: { ...s.order, companyName: name } };
  });
  await writeSeededState(join(dir, 'state.json'), snapshots);
  const out = join(dir, 'board.html');
  const io = { env: {}, stdout: () => {}, logger: silentLogger, now: () => BOARD_NOW };
  expect(await runBoard({ state: join(dir, 'state.json'), out }, io)).toBe(0);
  return pathToFileURL(out).href;
};

const cardsIn = (page: Page, column: string) =>
  page
    .locator(`section[data-column="${column}"] li:not([hidden]) article`)
    .evaluateAll((els) => els.map((el) => el.getAttribute('data-order')));

/** WCAG contrast ratio of two CSS rgb() colours. */
const contrast = (a: string, b: string): number => {
  const lum = (css: string) => {
    const [r, g, bl] = (css.match(/\d+(\.\d+)?/g) ?? []).slice(0, 3).map((v) => {
      const c = Number(v) / 255;
      return c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4;
    });
    return 0.2126 * (r ?? 0) + 0.7152 * (g ?? 0) + 0.0722 * (bl ?? 0);
  };
  const [hi, lo] = [lum(a), lum(b)].sort((x, y) => y - x) as [number, number];
  return (hi + 0.05) / (lo + 0.05);
};

describe('the board page in chromium', () => {
  it('has a column per stage in production order, then Receiving and Received, and a card per watched order', async () => {
    const { page, requests } = await open();
    await mkdir(OUTPUT, { recursive: true });
    await page.screenshot({ path: join(OUTPUT, 'board.png'), fullPage: true });
    expect(await page.locator('main section.column h2 > span:first-child').allTextContents()).toEqual([
      'Cutting',
      'Sewing',
      'Finishing',
      'Packing',
      'Quality Check',
      'Receiving',
      'Received',
    ]);
    expect(await cardsIn(page, 'Cutting')).toEqual(['1002']);
    expect(await cardsIn(page, 'Sewing')).toEqual(['1001']);
    expect(await cardsIn(page, 'Finishing')).toEqual(['1003']);
    expect(await cardsIn(page, 'Packing')).toEqual([]);
    expect(await cardsIn(page, 'Quality Check')).toEqual(['1009']);
    expect(await cardsIn(page, 'Receiving')).toEqual(['1004']);
    expect(await cardsIn(page, 'Received')).toEqual(['1005']);
    // Cancelled, removed and finished orders are not on the board.
    expect(await page.locator('article').count()).toBe(6);
    // Semantic structure: one main, a heading per column, an article per card.
    expect(await page.locator('main').count()).toBe(1);
    expect(await page.locator('section.column > h2').count()).toBe(7);
    // Self-contained: the only request is the page itself.
    expect(requests).toEqual([boardUrl]);
  });

  it('shows the order details, how many line items passed each stage, and labels every colour', async () => {
    const { page } = await open();
    const overdue = page.locator('article[data-order="1001"]');
    const text = ((await overdue.textContent()) ?? '').replace(/\s+/g, ' ');
    expect(text).toContain('PO 1001');
    expect(text).toContain('Atelier Nord');
    expect(text).toContain('Season 1');
    expect(text).toContain('2026-11-27');
    expect(text).toContain('Overdue 3 days');
    expect(text).toContain('Sewing stalled 10 days');
    expect(text).toContain('Stalled 10 days (limit 7) on 1 of 2');
    expect(
      await overdue.locator('.stages li').evaluateAll((items) =>
        items.map((li) =>
          Array.from(li.children)
            .map((span) => span.textContent)
            .join(' | '),
        ),
      ),
    ).toEqual([
      'Cutting | 2 of 2 passed',
      'Sewing | 1 of 2 passed | Stalled 10 days (limit 7) on 1 of 2',
      'Packing | 0 of 2 passed',
    ]);
    const soon = page.locator('article[data-order="1002"]');
    expect(await soon.textContent()).toContain('Due in 3 days');
    expect(await page.locator('article[data-order="1003"] .flag').count()).toBe(0);
  });

  it('paints overdue cards red and due-soon cards amber, with text contrast of at least 4.5:1', async () => {
    const { page } = await open();
    const style = (selector: string) =>
      page.locator(selector).evaluate((el) => {
        const s = getComputedStyle(el);
        return { bg: s.backgroundColor, fg: s.color, border: s.borderLeftColor };
      });
    const red = await style('article[data-order="1001"]');
    expect(red.bg).toBe('rgb(253, 236, 234)');
    expect(red.border).toBe('rgb(179, 38, 30)');
    const amber = await style('article[data-order="1002"]');
    expect(amber.bg).toBe('rgb(255, 243, 214)');
    const plain = await style('article[data-order="1003"]');
    expect(plain.bg).toBe('rgb(255, 255, 255)');
    for (const selector of [
      'article[data-order="1001"] .flag.overdue',
      'article[data-order="1001"] .flag.stalled',
      'article[data-order="1002"] .flag.soon',
      'article[data-order="1001"] dt',
      'article[data-order="1002"] dd',
      'article[data-order="1001"] .stages .stalled',
      'section[data-column="Sewing"] .count',
    ]) {
      const { fg, bg } = await page
        .locator(selector)
        .first()
        .evaluate((el) => {
          let node: Element | null = el;
          let background = 'rgba(0, 0, 0, 0)';
          while (node && /rgba\(.*, 0\)$/.test(background)) {
            background = getComputedStyle(node).backgroundColor;
            node = node.parentElement;
          }
          return { fg: getComputedStyle(el).color, bg: background };
        });
      expect(contrast(fg, bg), `${selector}: ${fg} on ${bg}`).toBeGreaterThanOrEqual(4.5);
    }
  });

  it('filters by supplier and season through the URL hash, so a filtered board is a shareable link', async () => {
    const { page } = await open('#supplier=Tribal%20Sportswear%20Inc.');
    expect(await page.locator('li[data-supplier]:not([hidden]) article').count()).toBe(3);
    expect(await cardsIn(page, 'Sewing')).toEqual([]);
    expect(await page.locator('section[data-column="Cutting"] .count').textContent()).toBe('1 order');
    expect(await page.locator('#f-supplier').inputValue()).toBe('Tribal Sportswear Inc.');
    await page.selectOption('#f-season', 'Season 2');
    expect(new URL(page.url()).hash).toBe('#supplier=Tribal+Sportswear+Inc.&season=Season+2');
    expect(
      await page
        .locator('li[data-supplier]:not([hidden]) article')
        .evaluateAll((els) => els.map((e) => e.getAttribute('data-order'))),
    ).toEqual(['1002']);
    await page.screenshot({ path: join(OUTPUT, 'board-filtered.png'), fullPage: true });
    await page.click('#clear');
    expect(await page.locator('li[data-supplier]:not([hidden]) article').count()).toBe(6);
  });

  it('filters by a supplier name exactly, repeated and trailing spaces included (HTML collapses them in text)', async () => {
    const spaced = 'Atelier  Nord ';
    const url = await boardWith({ '1001': spaced, '1003': spaced });
    const { page } = await open('', true, url);
    const shown = () =>
      page
        .locator('li[data-supplier]:not([hidden]) article')
        .evaluateAll((els) => els.map((e) => e.getAttribute('data-order')).sort());
    expect(
      await page
        .locator('#f-supplier option')
        .evaluateAll((os) => os.map((o) => (o as HTMLOptionElement).value)),
    ).toEqual(['', 'Atelier  Nord ', 'Atelier Nord', 'Tribal Sportswear Inc.']);
    await page.selectOption('#f-supplier', { value: spaced });
    expect(new URL(page.url()).hash).toBe('#supplier=Atelier++Nord+');
    expect(await shown()).toEqual(['1001', '1003']);
    await page.selectOption('#f-supplier', { value: 'Atelier Nord' });
    expect(await shown()).toEqual(['1005']);
    // The link to the filtered board selects the same supplier.
    const shared = await open('#supplier=Atelier++Nord+', true, url);
    expect(await shared.page.locator('#f-supplier').inputValue()).toBe(spaced);
    expect(await shared.page.locator('li[data-supplier]:not([hidden]) article').count()).toBe(2);
  });

  it('shows markup in an API string as text: no element, no script, and it still filters', async () => {
    const hostile = '<img src=x onerror="document.title=\'pwned\'"> "Nord" & <b>Co</b>';
    const url = await boardWith({ '1001': hostile });
    const { page, requests } = await open('', true, url);
    expect(await page.locator('main img, main b').count()).toBe(0);
    expect(await page.title()).toBe('Production board');
    expect(await page.locator('article[data-order="1001"] dd').first().textContent()).toBe(hostile);
    await page.selectOption('#f-supplier', { value: hostile });
    expect(await cardsIn(page, 'Sewing')).toEqual(['1001']);
    expect(await page.locator('li[data-supplier]:not([hidden]) article').count()).toBe(1);
    expect(requests).toEqual([url]);
  });

  it('reads without JavaScript (every card shown, the filters hidden) and shows a visible focus', async () => {
    const { page } = await open('#supplier=Nobody', false);
    expect(await page.locator('li[data-supplier]:not([hidden]) article').count()).toBe(6);
    expect(await page.locator('#filters').isVisible()).toBe(false);
    const withJs = await open();
    await withJs.page.keyboard.press('Tab');
    const focused = await withJs.page.evaluate(() => {
      const el = document.activeElement as HTMLElement;
      const s = getComputedStyle(el);
      return { id: el.id, outline: s.outlineStyle, width: s.outlineWidth };
    });
    expect(focused).toEqual({ id: 'f-supplier', outline: 'solid', width: '3px' });
  });

  it('is one file with its CSS and script inline, and a policy that forbids any other host', async () => {
    const html = await readFile(new URL(boardUrl), 'utf8');
    expect(html).toContain("default-src 'none'");
    expect(html).not.toMatch(/<link|src=|https?:\/\//);
  });
});
