import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from '../cycle/ports.js';
import type { CheckQueue } from '../webhook/check-queue.js';
import type { WebhookAnswer } from '../webhook/intake.js';
import { judgeBody, judgeHead, MAX_WEBHOOK_BODY_BYTES } from '../webhook/intake.js';
import { RateLimiter } from '../webhook/rate-limit.js';

export interface WebhookListenerOptions {
  port: number;
  host: string;
  secret: string;
  organisationIds: readonly number[];
  queue: CheckQueue;
  logger: Logger;
  now: () => number;
  /** Called after an order was queued: wakes the poll loop. */
  onQueued: () => void;
  rateLimiter?: RateLimiter;
}

export interface WebhookListener {
  url: string;
  /** Answers given, by status (for logs and tests). */
  answers: Record<number, number>;
  close(): Promise<void>;
}

/** Reads the body up to the limit; past it, stops reading and says so (the rest is never buffered). */
const readLimited = (req: IncomingMessage): Promise<string | { tooLarge: true }> =>
  new Promise((resolve, reject) => {
    const declared = Number(req.headers['content-length'] ?? Number.NaN);
    if (Number.isFinite(declared) && declared > MAX_WEBHOOK_BODY_BYTES) {
      resolve({ tooLarge: true });
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_WEBHOOK_BODY_BYTES) {
        req.removeAllListeners('data');
        req.pause();
        resolve({ tooLarge: true });
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });

/**
 * The command line's webhook endpoint (`poll --webhook-port`): POST /webhooks/uphance/<secret>. It only
 * judges and queues: its answer never waits on Uphance. The path is never logged (it holds the secret).
 * The rate limit counts requests that carry the secret only.
 */
export const startWebhookListener = async (options: WebhookListenerOptions): Promise<WebhookListener> => {
  const limiter = options.rateLimiter ?? new RateLimiter({}, options.now());
  const answers: Record<number, number> = {};
  const reply = (req: IncomingMessage, res: ServerResponse, answer: WebhookAnswer) => {
    answers[answer.status] = (answers[answer.status] ?? 0) + 1;
    res.writeHead(answer.status, { 'content-type': 'application/json', connection: 'close' });
    res.end(JSON.stringify(answer.body));
    if (answer.status === 413) res.once('finish', () => req.destroy());
  };
  const server: Server = createServer(async (req, res) => {
    try {
      const url = new URL(req.url ?? '/', 'http://listener');
      // The secret first: a request without it is answered 404 and spends no part of the rate limit, so a
      // flood of guesses never locks Uphance out. The body is read only once the head has passed.
      const head = judgeHead(req.method ?? 'GET', url.pathname, options.secret, () =>
        limiter.allow(req.socket.remoteAddress ?? 'unknown', options.now()),
      );
      if (head) {
        reply(req, res, head);
        req.resume();
        return;
      }
      const body = await readLimited(req);
      const answer = judgeBody(body, url.searchParams.get('organisation'), options.organisationIds);
      if (answer.check) {
        const outcome = options.queue.add(answer.check, options.now());
        options.logger.info('webhook: order queued for a check', { order: answer.check.number, outcome });
        options.onQueued();
      } else if (answer.status !== 202 || answer.reason !== 'ignored') {
        options.logger.debug('webhook answered', { status: answer.status, reason: answer.reason });
      }
      reply(req, res, answer);
    } catch {
      if (!res.headersSent) {
        res.writeHead(400, { 'content-type': 'application/json', connection: 'close' });
        res.end(JSON.stringify({ status: 'bad request' }));
      }
    }
  });
  server.requestTimeout = 10_000;
  server.headersTimeout = 5_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => resolve());
  });
  const address = server.address() as AddressInfo;
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  return {
    url: `http://${host}:${address.port}`,
    answers,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
};
