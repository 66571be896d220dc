import { createServer } from 'node:http';
import { listenOnLoopback } from './loopback.js';

/**
 * A local endpoint that speaks Secrets Manager's GetSecretValue and PutSecretValue (JSON 1.1), for the
 * handlers' and the command line's tests: the SDK and Powertools parameters reach it through
 * AWS_ENDPOINT_URL_SECRETS_MANAGER. PutSecretValue replaces the value of an existing secret only.
 */
export interface LocalSecrets {
  url: string;
  secrets: Map<string, string>;
  reads: number;
  writes: number;
  close(): Promise<void>;
}

export const startLocalSecrets = async (): Promise<LocalSecrets> => {
  const state: LocalSecrets = { url: '', secrets: new Map(), reads: 0, writes: 0, close: async () => {} };
  const server = createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const body = JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}') as {
      SecretId?: string;
      SecretString?: string;
    };
    const target = String(req.headers['x-amz-target'] ?? '');
    res.setHeader('content-type', 'application/x-amz-json-1.1');
    const value = body.SecretId === undefined ? undefined : state.secrets.get(body.SecretId);
    if (
      target === 'secretsmanager.PutSecretValue' &&
      value !== undefined &&
      body.SecretId !== undefined &&
      typeof body.SecretString === 'string'
    ) {
      state.writes++;
      state.secrets.set(body.SecretId, body.SecretString);
      res.end(JSON.stringify({ ARN: body.SecretId, Name: body.SecretId, VersionId: `v${state.writes + 1}` }));
      return;
    }
    if (target !== 'secretsmanager.GetSecretValue' || value === undefined) {
      res.writeHead(400);
      res.end(
        JSON.stringify({
          __type: 'ResourceNotFoundException',
          message: 'Secrets Manager can’t find the specified secret.',
        }),
      );
      return;
    }
    state.reads++;
    res.end(
      JSON.stringify({ ARN: body.SecretId, Name: body.SecretId, SecretString: value, VersionId: 'v1' }),
    );
  });
  ({ url: state.url, close: state.close } = await listenOnLoopback(server));
  return state;
};
