import type { SignalSettings } from '../core/signals.js';
import type { DigestMessage } from '../messages/channels.js';
import type { Digest, DigestState } from './digest.js';
import { buildDigest, digestIsEmpty, digestSubject, formatDigest } from './digest.js';
import type { DigestMarker } from './marker.js';

/**
 * Where a digest goes: a channel of the registry (messages/channels.ts), which gets the subject and the
 * plain text (formatDigest) and makes them into its payload, escaped for its format.
 */
export type DigestChannel = (message: DigestMessage) => Promise<void>;

export interface DigestJob {
  /** The state's snapshots and pending journal (readDigestState). */
  state: () => Promise<DigestState>;
  /** The organisation whose state it is, named in the digest when set. */
  organisationId?: number;
  marker: DigestMarker;
  channels: DigestChannel[];
  settings: SignalSettings;
  now: () => number;
  /** Send even when there is nothing to say (default: nothing is sent then). */
  whenEmpty: boolean;
  /**
   * The scheduled run this is (the schedule's scheduled time): a retry of a run that already made this
   * organisation's digest does nothing, so a failure elsewhere never sends it twice.
   */
  run?: string;
}

export type DigestOutcome = { digest: Digest; sent: boolean } | { digest: null; sent: false; repeat: true };

/**
 * The scheduled digest: builds it from the state, sends it to every channel unless it has nothing to say,
 * then records its time, the end of its period and its run in the marker. A failed send leaves the marker
 * where it was, so the next run still reports the same period.
 */
export const runDigestJob = async (job: DigestJob): Promise<DigestOutcome> => {
  const now = job.now();
  const last = await job.marker.last();
  if (job.run !== undefined && last?.run === job.run) return { digest: null, sent: false, repeat: true };
  const digest = buildDigest(await job.state(), now, job.settings, last, job.organisationId);
  const sent = job.whenEmpty || !digestIsEmpty(digest);
  if (sent) {
    const message = { subject: digestSubject(digest), text: formatDigest(digest) };
    await Promise.all(job.channels.map((send) => send(message)));
  }
  // A run by hand (no scheduled time) keeps the last scheduled run's, so that its retry still skips.
  const run = job.run ?? last?.run;
  await job.marker.record({
    at: digest.generatedAt,
    until: digest.until,
    ...(run === undefined ? {} : { run }),
  });
  return { digest, sent };
};
