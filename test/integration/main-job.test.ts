import { spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { expect, it } from 'vitest';
import { freeLoopbackPort } from '../../functions/shared/net.js';

it('npm start -- --board-port N without credentials: the simulator, a silent baseline, the live board, then events as the orders move; Ctrl-C stops it', async () => {
  const cwd = process.cwd();
  // `npm start -- --board-port N`: the board on the port asked for (one free right now).
  const port = await freeLoopbackPort();
  const child = spawn(process.execPath, ['--import', 'tsx', 'demo/start.ts', '--board-port', String(port)], {
    cwd,
    env: { PATH: process.env.PATH ?? '', HOME: mkdtempSync(`${tmpdir()}/home-`) },
  });
  let stdout = '';
  let stderr = '';
  child.stderr.on('data', (d) => {
    stderr += String(d);
  });
  // Waits for output, not for time: the first events arrive after a few polls of the moving factory.
  const firstEvents = new Promise<void>((resolve) => {
    child.stdout.on('data', (d) => {
      stdout += String(d);
      if (stdout.split('\n').filter(Boolean).length >= 3) resolve();
    });
  });
  const exited = new Promise<number | null>((resolve) => child.on('close', resolve));
  await Promise.race([firstEvents, exited]);
  // The live board: its address printed at start, the page showing the simulated factory's orders.
  const boardUrl = /production board at (http:\/\/127\.0\.0\.1:\d+\/)/.exec(stderr)?.[1];
  expect(boardUrl).toBeDefined();
  expect(boardUrl).toBe(`http://127.0.0.1:${port}/`);
  const page = await (await fetch(boardUrl ?? '')).text();
  expect(page).toContain('<h1>Production board</h1>');
  expect(page.match(/<article /g)?.length ?? 0).toBeGreaterThan(5);
  expect(page).toContain('<meta http-equiv="refresh" content="5">');
  child.kill('SIGINT');
  expect(await exited).toBe(0);
  expect(stderr).toMatch(/polling the built-in Uphance simulator/);
  expect(stderr).toMatch(/baseline recorded .*events=0/);
  const events = stdout
    .trim()
    .split('\n')
    .map((line) => JSON.parse(line));
  expect(events.length).toBeGreaterThanOrEqual(3);
  for (const event of events) {
    expect(event.source).toBe('uphance.production-orders');
    expect(event.detail.schemaVersion).toBe('1');
  }
}, 90_000);

it('npm start names an option it does not take (exit 2)', async () => {
  const child = spawn(process.execPath, ['--import', 'tsx', 'demo/start.ts', '--bord-port', '9000'], {
    env: { PATH: process.env.PATH ?? '', HOME: mkdtempSync(`${tmpdir()}/home-`) },
  });
  let stderr = '';
  child.stderr.on('data', (d) => {
    stderr += String(d);
  });
  expect(await new Promise((resolve) => child.on('close', resolve))).toBe(2);
  expect(stderr).toContain("Unknown option '--bord-port'");
});
