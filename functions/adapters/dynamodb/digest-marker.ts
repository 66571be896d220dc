import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { GetItemCommand, PutItemCommand } from '@aws-sdk/client-dynamodb';
import type { DigestMark, DigestMarker, MARKER_ATTRIBUTES } from '../../digest/marker.js';
import { markerKey, markOf } from '../../digest/marker.js';

/** Where earlier versions kept the marker: in the organisation's state partition (read, never written). */
const legacyKey = (organisation: string) => ({ pk: `org#${organisation}`, sk: 'digest' });

/** The digest marker of a table's organisation: `pk = digest#<partition>` (digest/marker.ts). */
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
