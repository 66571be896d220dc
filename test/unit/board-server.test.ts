import { describe, expect, it } from 'vitest';
import { startBoardServer } from '../../functions/board/server.js';
import { silentLogger } from '../../functions/cycle/ports.js';

describe('the live board server', () => {
  it('serves the last rendered page at /, keeps it when a render fails, and answers nothing else', async () => {
    let version = 0;
    const warnings: string[] = [];
    const server = await startBoardServer({
      port: 0,
      logger: { ...silentLogger, warn: (m) => warnings.push(m) },
      render: async () => {
        version++;
        if (version === 2) throw new Error('state unreadable');
        return `<p>page ${version}</p>`;
      },
    });
    try {
      expect(server.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/$/);
      expect(await (await fetch(server.url)).text()).toContain('The first cycle is running');
      await server.refresh();
      const page = await fetch(server.url);
      expect(page.headers.get('content-type')).toBe('text/html; charset=utf-8');
      expect(page.headers.get('cache-control')).toBe('no-store');
      expect(await page.text()).toBe('<p>page 1</p>');
      await server.refresh();
      expect(await (await fetch(server.url)).text()).toBe('<p>page 1</p>');
      expect(warnings).toEqual(['the board could not be rendered; it shows the previous page']);
      await server.refresh();
      expect(await (await fetch(server.url)).text()).toBe('<p>page 3</p>');
      expect((await fetch(`${server.url}state.json`)).status).toBe(404);
      expect((await fetch(server.url, { method: 'POST' })).status).toBe(405);
    } finally {
      await server.close();
    }
  });

  it('takes a free port when the chosen one is busy, if allowed; fails otherwise', async () => {
    const first = await startBoardServer({ port: 0, logger: silentLogger, render: async () => '' });
    try {
      const second = await startBoardServer({
        port: first.port,
        logger: silentLogger,
        render: async () => '',
        anyPortIfTaken: true,
      });
      expect(second.port).not.toBe(first.port);
      await second.close();
      await expect(
        startBoardServer({ port: first.port, logger: silentLogger, render: async () => '' }),
      ).rejects.toThrow(/EADDRINUSE/);
    } finally {
      await first.close();
    }
  });
});
