import type { Server } from 'node:http';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from '../cycle/ports.js';

/**
 * The live board: serves the last rendered page at / on 127.0.0.1 (node:http, nothing else). `refresh()`
 * renders it anew (after each cycle); a failed render keeps the previous page. The page itself reloads
 * with a meta refresh, so it follows the cycles without JavaScript.
 */
export interface BoardServer {
  url: string;
  port: number;
  refresh(): Promise<void>;
  close(): Promise<void>;
}

export interface BoardServerOptions {
  render: () => Promise<string>;
  logger: Logger;
  port: number;
  host?: string;
  /** When the port is taken, listen on a free one instead of failing (npm start). */
  anyPortIfTaken?: boolean;
}

const PLACEHOLDER =
  '<!doctype html><html lang="en"><head><meta charset="utf-8"><meta http-equiv="refresh" content="3"><title>Production board</title></head><body><main><h1>Production board</h1><p>The first cycle is running; this page reloads in a few seconds.</p></main></body></html>';

const listen = (server: Server, port: number, host: string) =>
  new Promise<void>((resolve, reject) => {
    const onError = (error: Error) => reject(error);
    server.once('error', onError);
    server.listen(port, host, () => {
      server.off('error', onError);
      resolve();
    });
  });

export const startBoardServer = async (options: BoardServerOptions): Promise<BoardServer> => {
  const host = options.host ?? '127.0.0.1';
  let page = PLACEHOLDER;
  const server = createServer((request, response) => {
    const path = (request.url ?? '/').split('?')[0];
    if (request.method !== 'GET' && request.method !== 'HEAD') {
      response.writeHead(405, { allow: 'GET, HEAD' }).end();
    } else if (path !== '/' && path !== '/index.html') {
      response.writeHead(404, { 'content-type': 'text/plain; charset=utf-8' }).end('not found\n');
    } else {
      response.writeHead(200, {
        'content-type': 'text/html; charset=utf-8',
        'cache-control': 'no-store',
        'content-security-policy':
          "default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'",
        'x-content-type-options': 'nosniff',
      });
      response.end(request.method === 'HEAD' ? undefined : page);
    }
  });
  try {
    await listen(server, options.port, host);
  } catch (error) {
    if (!options.anyPortIfTaken || (error as NodeJS.ErrnoException).code !== 'EADDRINUSE') throw error;
    options.logger.warn(`port ${options.port} is taken: the board listens on a free port instead`);
    await listen(server, 0, host);
  }
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://${host}:${port}/`,
    port,
    async refresh() {
      try {
        page = await options.render();
      } catch (error) {
        options.logger.warn('the board could not be rendered; it shows the previous page', {
          reason: (error as Error).message,
        });
      }
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
};
