import { describe, expect, it } from 'vitest';
import { slackChannel } from '../../functions/adapters/slack-webhook.js';
import { DEFAULT_SIGNAL_SETTINGS } from '../../functions/core/signals.js';
import type { Snapshot } from '../../functions/core/snapshot.js';
import type { DigestChannel } from '../../functions/digest/job.js';
import { runDigestJob } from '../../functions/digest/job.js';
import type { DigestMark, DigestMarker } from '../../functions/digest/marker.js';
import { digestConfig } from '../../functions/runtime/lambda-config.js';
import { BOARD_NOW, seededSnapshots } from '../helpers/board-state.js';

const memoryMarker = (at: string | null = null): DigestMarker & { mark: DigestMark | null } => {
  const marker = {
    mark: at === null ? null : { at, until: at },
    last: async () => marker.mark,
    record: async (value: DigestMark) => {
      marker.mark = value;
    },
  };
  return marker;
};

const recorder = () => {
  const sent: Array<{ subject: string; text: string }> = [];
  const channel: DigestChannel = async (message) => {
    sent.push(message);
  };
  return { sent, channel };
};

const job = (snapshots: Snapshot[], marker: DigestMarker, channels: DigestChannel[], whenEmpty = false) => ({
  state: async () => ({ snapshots, pendingSince: null }),
  marker,
  channels,
  settings: DEFAULT_SIGNAL_SETTINGS,
  now: () => BOARD_NOW,
  whenEmpty,
});

const quiet = () =>
  seededSnapshots()
    .filter((s) => ['1003', '1009'].includes(s.order.number))
    .map(({ rolledUpSeen: _, ...s }) => s);

describe('the scheduled digest', () => {
  it('sends the digest to every channel with a subject, then records its time and where its period ends', async () => {
    const slack = recorder();
    const email = recorder();
    const marker = memoryMarker('2026-11-29T10:00:00.000Z');
    const outcome = await runDigestJob(job(seededSnapshots(), marker, [slack.channel, email.channel]));
    expect(outcome.sent).toBe(true);
    expect(slack.sent).toEqual(email.sent);
    expect(slack.sent[0]?.subject).toBe(
      'Production digest: 1 overdue, 1 due soon, 0 at risk, 1 stalled, 1 completed, 2 received',
    );
    expect(slack.sent[0]?.text).toContain('- PO 1001 · Atelier Nord · due 2026-11-27, 3 days overdue');
    expect(marker.mark).toEqual({ at: '2026-11-30T10:00:00.000Z', until: '2026-11-30T09:45:00.000Z' });
  });

  it('sends nothing when there is nothing to say, unless told to', async () => {
    const channel = recorder();
    const marker = memoryMarker();
    expect((await runDigestJob(job(quiet(), marker, [channel.channel]))).sent).toBe(false);
    expect(channel.sent).toEqual([]);
    expect(marker.mark).toEqual({ at: '2026-11-30T10:00:00.000Z', until: '2026-11-30T09:45:00.000Z' });
    expect((await runDigestJob(job(quiet(), marker, [channel.channel], true))).sent).toBe(true);
    expect(channel.sent[0]?.text).toContain('Overdue (0)');
  });

  it('leaves the marker where it was when a channel fails, so the next run reports the same period', async () => {
    const marker = memoryMarker('2026-11-29T10:00:00.000Z');
    const failing: DigestChannel = async () => {
      throw new Error('Slack refused the digest: HTTP 500');
    };
    await expect(runDigestJob(job(seededSnapshots(), marker, [failing]))).rejects.toThrow(/HTTP 500/);
    expect(marker.mark?.at).toBe('2026-11-29T10:00:00.000Z');
  });

  it('a retry of a scheduled run skips what that run made; a run by hand keeps the scheduled run for it', async () => {
    const channel = recorder();
    const marker = memoryMarker();
    const run = (r?: string) =>
      runDigestJob({
        ...job(seededSnapshots(), marker, [channel.channel]),
        ...(r === undefined ? {} : { run: r }),
      });
    expect((await run('2026-11-30T07:00:00Z')).sent).toBe(true);
    expect(await run('2026-11-30T07:00:00Z')).toEqual({ digest: null, sent: false, repeat: true });
    expect(channel.sent).toHaveLength(1);
    expect((await run()).sent).toBe(true);
    expect(marker.mark?.run).toBe('2026-11-30T07:00:00Z');
    expect((await run('2026-11-30T07:00:00Z')).sent).toBe(false);
    expect((await run('2026-12-01T07:00:00Z')).sent).toBe(true);
    expect(channel.sent).toHaveLength(3);
  });

  it('posts {text} to the Slack webhook and never puts the URL in an error', async () => {
    const url = 'https://hooks.slack.com/services/T000/B000/SECRET';
    const calls: Array<{ url: string; body: string }> = [];
    const fake = (status: number) =>
      (async (input: string | URL | Request, init?: RequestInit) => {
        calls.push({ url: String(input), body: String(init?.body) });
        return new Response('', { status });
      }) as typeof fetch;
    await slackChannel(url, fake(200))({ subject: 's', text: 'hello' });
    expect(calls).toEqual([{ url, body: '{"text":"hello"}' }]);
    const error = await slackChannel(url, fake(404))({ subject: 's', text: 'x' }).catch((e: Error) => e);
    expect((error as Error).message).toBe('Slack refused the digest: HTTP 404');
    expect((error as Error).message).not.toContain('SECRET');
    // A failure before any answer (DNS, refused connection, a URL fetch cannot parse) never quotes the URL.
    const unreachable = (async () => {
      throw new TypeError(`Failed to parse URL from ${url}`);
    }) as typeof fetch;
    const thrown = await slackChannel(url, unreachable)({ subject: 's', text: 'x' }).catch((e: Error) => e);
    expect((thrown as Error).message).toBe('Slack could not be reached: TypeError');
  });

  it('the function reads its settings from the environment and names a bad one', () => {
    expect(
      digestConfig({ TABLE_NAME: 't', DIGEST_WHEN_EMPTY: 'true', SLACK_WEBHOOK_SECRET_ARN: 'arn:slack' }),
    ).toEqual({
      tableName: 't',
      organisationIds: [],
      targets: { slack: 'arn:slack' },
      whenEmpty: true,
    });
    // Each channel's target from the variable its registry entry names; a blank one is no target.
    expect(
      digestConfig({ TABLE_NAME: 't', DIGEST_TOPIC_ARN: 'arn:topic', SLACK_WEBHOOK_SECRET_ARN: ' ' }).targets,
    ).toEqual({ email: 'arn:topic' });
    expect(() => digestConfig({ TABLE_NAME: 't', DIGEST_WHEN_EMPTY: 'yes' })).toThrow(/DIGEST_WHEN_EMPTY/);
    expect(() => digestConfig({})).toThrow(/TABLE_NAME/);
  });
});
