import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/** Starts a test server on loopback; returns its URL and a close() that also drops kept-alive connections. */
export const listenOnLoopback = async (
  server: Server,
  port = 0,
  host = '127.0.0.1',
): Promise<{ url: string; close: () => Promise<void> }> => {
  await new Promise<void>((resolve) => server.listen(port, host, resolve));
  return {
    url: `http://${host}:${(server.address() as AddressInfo).port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
};
