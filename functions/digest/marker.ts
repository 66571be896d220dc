import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { GetItemCommand, PutItemCommand } from '@aws-sdk/client-dynamodb';
import type { DigestMark } from './digest.js';

/**
 * The `digest` marker: when the last digest was made and where its period ended, so that the next one
 * reports what was detected since. A marker of an earlier version has no `until`: its time stands for it.
 * File state: a file beside the state file (FILE.digest.json), never the state file itself, whose writer
 * (the poller) rewrites it whole under its lease. DynamoDB: one item per organisation in a partition of its
 * own (markerKey), apart from the state, so that the deployed digest function, which may write nothing
 * else, gets write access to these partitions only (IAM `dynamodb:LeadingKeys`, infra/constructs/digest.ts).
 */
export interface DigestMarker {
  last(): Promise<DigestMark | null>;
  record(mark: DigestMark): Promise<void>;
}

const markOf = (at: unknown, until: unknown, run: unknown): DigestMark | null =>
  typeof at === 'string'
    ? { at, until: typeof until === 'string' ? until : at, ...(typeof run === 'string' ? { run } : {}) }
    : null;

export class FileDigestMarker implements DigestMarker {
  readonly path: string;

  constructor(statePath: string) {
    this.path = `${statePath}.digest.json`;
  }

  async last(): Promise<DigestMark | null> {
    try {
      const parsed = JSON.parse(await readFile(this.path, 'utf8')) as Record<string, unknown>;
      return markOf(parsed.lastDigestAt, parsed.until, parsed.run);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
      throw new Error(`cannot read the digest marker ${this.path}: ${(error as Error).message}`);
    }
  }

  async record(mark: DigestMark): Promise<void> {
    await mkdir(dirname(this.path), { recursive: true });
    const temp = `${this.path}.${process.pid}.tmp`;
    const content = {
      format: 'uphance-notifier-digest',
      lastDigestAt: mark.at,
      until: mark.until,
      run: mark.run,
    };
    await writeFile(temp, `${JSON.stringify(content)}\n`);
    await rename(temp, this.path);
  }
}

/** The marker item's key for an organisation's partition name (`default` without an organisation). */
export const markerKey = (organisation: string) => ({ pk: `digest#${organisation}`, sk: 'digest' });

/** Every attribute a marker item has: the digest function may write items of these attributes only. */
export const MARKER_ATTRIBUTES = ['pk', 'sk', 'lastDigestAt', 'until', 'run'] as const;

/** Where earlier versions kept the marker: in the organisation's state partition (read, never written). */
const legacyKey = (organisation: string) => ({ pk: `org#${organisation}`, sk: 'digest' });

export class DynamoDigestMarker implements DigestMarker {
  constructor(
    private readonly client: DynamoDBClient,
    private readonly tableName: string,
    private readonly organisation: string,
  ) {}

  async #get(key: { pk: string; sk: string }) {
    const out = await this.client.send(
      new GetItemCommand({
        TableName: this.tableName,
        Key: { pk: { S: key.pk }, sk: { S: key.sk } },
        ConsistentRead: true,
      }),
    );
    return out.Item;
  }

  async last(): Promise<DigestMark | null> {
    // A marker an earlier version wrote still counts until this one writes its own.
    const item =
      (await this.#get(markerKey(this.organisation))) ?? (await this.#get(legacyKey(this.organisation)));
    return markOf(item?.lastDigestAt?.S, item?.until?.S, item?.run?.S);
  }

  async record(mark: DigestMark): Promise<void> {
    const { pk, sk } = markerKey(this.organisation);
    // Typed by MARKER_ATTRIBUTES: an attribute added here must be added there, and so to the IAM policy.
    const item: Partial<Record<(typeof MARKER_ATTRIBUTES)[number], { S: string }>> = {
      pk: { S: pk },
      sk: { S: sk },
      lastDigestAt: { S: mark.at },
      until: { S: mark.until },
      ...(mark.run === undefined ? {} : { run: { S: mark.run } }),
    };
    await this.client.send(new PutItemCommand({ TableName: this.tableName, Item: item }));
  }
}
