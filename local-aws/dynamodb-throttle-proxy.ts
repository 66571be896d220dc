import { createServer, request } from 'node:http';
import { listenOnLoopback } from './loopback.js';

/**
 * A proxy in front of DynamoDB Local that answers some requests with DynamoDB's own throttling error
 * (DynamoDB Local never throttles). The SDK sees exactly what DynamoDB would send.
 */
export interface ThrottleProxy {
  endpoint: string;
  throttled: number;
  forwarded: number;
  setRate(rate: number): void;
  close(): Promise<void>;
}

export const startThrottleProxy = async (
  target: string,
  random: () => number,
  rate = 0,
): Promise<ThrottleProxy> => {
  const upstream = new URL(target);
  let throttleRate = rate;
  const state: ThrottleProxy = {
    endpoint: '',
    throttled: 0,
    forwarded: 0,
    setRate: (r) => {
      throttleRate = r;
    },
    close: async () => {},
  };
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      if (random() < throttleRate) {
        state.throttled++;
        res.writeHead(400, { 'content-type': 'application/x-amz-json-1.0', 'x-amzn-requestid': 'throttled' });
        res.end(
          JSON.stringify({
            __type: 'com.amazonaws.dynamodb.v20120810#ThrottlingException',
            message: 'Rate of requests exceeds the allowed throughput.',
          }),
        );
        return;
      }
      state.forwarded++;
      const forward = request(
        {
          host: upstream.hostname,
          port: upstream.port,
          method: req.method,
          path: req.url,
          headers: req.headers,
        },
        (answer) => {
          res.writeHead(answer.statusCode ?? 500, answer.headers);
          answer.pipe(res);
        },
      );
      forward.on('error', () => {
        res.writeHead(500);
        res.end();
      });
      forward.end(body);
    });
  });
  ({ url: state.endpoint, close: state.close } = await listenOnLoopback(server));
  return state;
};
