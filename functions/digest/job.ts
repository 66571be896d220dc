import type { BoardSettings } from '../board/settings.js';
import type { Snapshot } from '../core/snapshot.js';
import type { Digest } from './digest.js';
import { buildDigest, digestIsEmpty, digestSubject, formatDigest } from './digest.js';
import type { DigestMarker } from './marker.js';

/** Where a digest goes (Slack, email); each gets the subject and the plain text. */
export type DigestChannel = (message: { subject: string; text: string }) => Promise<void>;

export interface DigestJob {
  snapshots: () => Promise<Snapshot[]>;
  marker: DigestMarker;
  channels: DigestChannel[];
  settings: BoardSettings;
  now: () => number;
  /** Send even when there is nothing to say (default: nothing is sent then). */
  whenEmpty: boolean;
}

export interface DigestOutcome {
  digest: Digest;
  sent: boolean;
}

/**
 * The scheduled digest: builds it from the state, sends it to every channel unless it has nothing to say,
 * then records its time and the end of its period in the marker. A failed send leaves the marker where it was, so the next run
 * still reports the same period.
 */
export const runDigestJob = async (job: DigestJob): Promise<DigestOutcome> => {
  const now = job.now();
  const digest = buildDigest(await job.snapshots(), now, job.settings, await job.marker.last());
  const sent = job.whenEmpty || !digestIsEmpty(digest);
  if (sent) {
    const message = { subject: digestSubject(digest), text: formatDigest(digest) };
    await Promise.all(job.channels.map((send) => send(message)));
  }
  await job.marker.record({ at: digest.generatedAt, until: digest.until });
  return { digest, sent };
};

/** Posts to a Slack incoming webhook. The URL is a secret: it never appears in an error or a log. */
export const slackChannel =
  (webhookUrl: string, fetchImpl: typeof fetch = fetch): DigestChannel =>
  async ({ text }) => {
    const response = await fetchImpl(webhookUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ text }),
      signal: AbortSignal.timeout(10_000),
    });
    if (!response.ok) throw new Error(`Slack refused the digest: HTTP ${response.status}`);
  };
