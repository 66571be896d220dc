import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { TransportClients } from '../adapters/channel-transports.js';
import { destinationOf, digestChannel } from '../adapters/channel-transports.js';
import { DynamoDigestMarker } from '../adapters/dynamodb/digest-marker.js';
import { FileDigestMarker } from '../adapters/file/digest-marker.js';
import type { DigestChannel } from '../digest/job.js';
import type { DigestMarker } from '../digest/marker.js';
import type { ChannelName } from '../messages/channels.js';
import { CHANNEL_NAMES, CHANNELS } from '../messages/channels.js';
import { awsClient } from './clients.js';
import type { StateLocation } from './state-location.js';

/** The digest marker that goes with a state: beside its file, or in the digest partition of its own. */
export const digestMarkerAt = (location: StateLocation, dynamodb?: DynamoDBClient): DigestMarker =>
  location.kind === 'file'
    ? new FileDigestMarker(location.path)
    : new DynamoDigestMarker(dynamodb ?? awsClient(DynamoDBClient), location.tableName, location.partition);

/**
 * The digest's channels, in the registry's order: those given a target (a secret's destination read from
 * it now, so that a replaced one is used by the next run).
 */
export const digestChannelsFor = async (
  targets: Partial<Record<ChannelName, string>>,
  readSecret: (arn: string) => Promise<unknown>,
  clients: TransportClients,
): Promise<DigestChannel[]> => {
  const channels: DigestChannel[] = [];
  for (const channel of CHANNEL_NAMES) {
    const target = targets[channel];
    if (target === undefined) continue;
    const destination = await destinationOf(
      channel,
      target,
      CHANNELS[channel].target.digestVariable,
      readSecret,
    );
    channels.push(digestChannel(channel, destination, clients));
  }
  return channels;
};
