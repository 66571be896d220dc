import { createServer } from 'node:http';
import type { PublishCommand } from '@aws-sdk/client-sns';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { notify, parseEnvelope } from '../../functions/adapters/notify-delivery.js';
import { postToSlack, SlackWebhookError, webhookUrlOf } from '../../functions/adapters/slack-webhook.js';
import { toEnvelope } from '../../functions/core/events/envelope.js';
import { emailOf } from '../../functions/messages/email.js';
import { slackPayloadOf } from '../../functions/messages/slack.js';
import { ConfigError } from '../../functions/runtime/config.js';
import { notifyConfig } from '../../functions/runtime/lambda-config.js';
import { listenOnLoopback } from '../../local-aws/loopback.js';
import { exampleEvents } from '../../scripts/event-examples.js';
import { lambdaContext } from '../helpers/lambda.js';

const examples = exampleEvents();
const envelope = toEnvelope(examples.OrderOverdue, { source: 'uphance.production-orders' });

/** A Slack webhook stand-in answering with the given statuses in turn, recording the bodies. */
const fakeSlack = async (statuses: number[]) => {
  const bodies: unknown[] = [];
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (chunk) => {
      body += chunk;
    });
    req.on('end', () => {
      bodies.push(JSON.parse(body));
      const status = statuses.shift() ?? 200;
      res.writeHead(status, status === 429 ? { 'retry-after': '0' } : {});
      res.end(status === 200 ? 'ok' : 'rate_limited');
    });
  });
  const running = await listenOnLoopback(server);
  closers.push(running.close);
  return { url: `${running.url}/services/T000/B000/secret-part`, bodies };
};
const closers: Array<() => Promise<void>> = [];
afterEach(async () => {
  await Promise.all(closers.splice(0).map((close) => close()));
});

const noSleep = async () => {};

describe('notify function', () => {
  it('posts the Block Kit payload to Slack, retrying a 429 and a 503', async () => {
    const slack = await fakeSlack([429, 503, 200]);
    await postToSlack(slackPayloadOf(examples.OrderOverdue), { url: slack.url, sleep: noSleep });
    expect(slack.bodies).toHaveLength(3);
    expect(slack.bodies[2]).toEqual(slackPayloadOf(examples.OrderOverdue));
  });

  it('gives up on a 400 at once, without the webhook URL in the error', async () => {
    const slack = await fakeSlack([400]);
    const failure = postToSlack(slackPayloadOf(examples.OrderOverdue), { url: slack.url, sleep: noSleep });
    await expect(failure).rejects.toBeInstanceOf(SlackWebhookError);
    await expect(failure).rejects.not.toThrow(/secret-part/);
    expect(slack.bodies).toHaveLength(1);
  });

  it('delivers an EventBridge event to Slack through the whole path', async () => {
    const slack = await fakeSlack([200]);
    const logged: unknown[] = [];
    await notify(envelope, {
      config: { channel: 'slack', target: 'arn:secret' },
      webhookUrl: async () => slack.url,
      sns: { send: async () => ({}) } as never,
      logger: { info: (...args: unknown[]) => logged.push(args) },
    });
    expect(slack.bodies).toEqual([slackPayloadOf(examples.OrderOverdue)]);
    expect(JSON.stringify(logged)).not.toContain('secret-part');
  });

  it('publishes the email subject and plain text to the topic', async () => {
    const sent: PublishCommand[] = [];
    await notify(envelope, {
      config: { channel: 'email', target: 'arn:aws:sns:eu-west-1:123456789012:topic' },
      webhookUrl: async () => {
        throw new Error('not used');
      },
      sns: { send: async (command: PublishCommand) => sent.push(command) } as never,
      logger: { info: () => {} },
    });
    const email = emailOf(examples.OrderOverdue);
    expect(sent.map((c) => c.input)).toEqual([
      { TopicArn: 'arn:aws:sns:eu-west-1:123456789012:topic', Subject: email.subject, Message: email.body },
    ]);
  });

  it('delivers a hostile supplier and PO number safely: Slack pinged by no one, the subject one ASCII line', async () => {
    const event = structuredClone(examples.OrderOverdue);
    event.detail.order.companyName =
      '<!channel> URGENT <https://evil.example/login|Uphance: re-enter your password>';
    event.detail.order.number = '1308\r\nBcc: victim@example.com\u001b[2J';
    const hostile = toEnvelope(event, { source: 'uphance.production-orders' });
    const slack = await fakeSlack([200]);
    const sent: PublishCommand[] = [];
    const deps = (channel: 'slack' | 'email') => ({
      config: { channel, target: 'arn:aws:sns:eu-west-1:123456789012:topic' },
      webhookUrl: async () => slack.url,
      sns: { send: async (command: PublishCommand) => sent.push(command) } as never,
      logger: { info: () => {} },
    });
    await notify(hostile, deps('slack'));
    await notify(hostile, deps('email'));
    const posted = JSON.stringify(slack.bodies);
    expect(posted).toContain('&lt;!channel&gt; URGENT &lt;https://evil.example/login|');
    expect(posted).not.toContain('<!channel>');
    expect(posted).not.toContain('<https://');
    const input = sent[0]?.input;
    expect(input?.Subject).toMatch(/^PO 1308 Bcc: victim@example\.com\?\[2J - overdue [\x20-\x7e]+$/);
    expect(input?.Subject?.length).toBeLessThan(100);
    expect(input?.Message).not.toMatch(/(?!\n)\p{Cc}/u);
  });

  it('refuses an event it has no schema for, or a bad detail', () => {
    expect(() => parseEnvelope({ 'detail-type': 'Nope', detail: {} })).toThrow(
      /no message for detail-type "Nope"/,
    );
    expect(() => parseEnvelope({ 'detail-type': 'OrderOverdue', detail: { due: 1 } })).toThrow();
  });

  it('loads with a bad environment and fails each invocation naming what is missing (the event kept)', async () => {
    vi.resetModules();
    vi.stubEnv('NOTIFY_CHANNEL', 'slack');
    vi.stubEnv('SLACK_WEBHOOK_SECRET_ARN', '');
    vi.stubEnv('POWERTOOLS_LOG_LEVEL', 'SILENT');
    try {
      const { handler } = await import('../../functions/handlers/notify.js');
      for (let invocation = 0; invocation < 2; invocation++)
        await expect(handler(envelope, lambdaContext(10_000))).rejects.toThrow(
          /NOTIFY_CHANNEL must be slack \(with SLACK_WEBHOOK_SECRET_ARN\)/,
        );
    } finally {
      vi.unstubAllEnvs();
    }
  });

  it('reads its configuration and the webhook secret, naming what is wrong', () => {
    expect(notifyConfig({ NOTIFY_CHANNEL: 'email', EMAIL_TOPIC_ARN: 'arn:t' })).toEqual({
      channel: 'email',
      target: 'arn:t',
    });
    expect(() => notifyConfig({ NOTIFY_CHANNEL: 'slack' })).toThrow(ConfigError);
    expect(webhookUrlOf('https://hooks.slack.com/services/a', 'S')).toBe(
      'https://hooks.slack.com/services/a',
    );
    expect(webhookUrlOf('{"url":"https://hooks.slack.com/services/b"}', 'S')).toBe(
      'https://hooks.slack.com/services/b',
    );
    expect(() => webhookUrlOf('Xy12generated', 'SLACK_WEBHOOK_SECRET_ARN')).toThrow(
      /SLACK_WEBHOOK_SECRET_ARN holds no Slack webhook URL/,
    );
    // https and no spaces, yet no URL (fetch would then quote it in its error): refused here, unquoted.
    const bad = 'https://hooks.slack.com:44x/services/SECRET';
    const error = (() => {
      try {
        webhookUrlOf(bad, 'S');
      } catch (e) {
        return e as Error;
      }
    })();
    expect(error?.message).toMatch(/S holds no Slack webhook URL/);
    expect(error?.message).not.toContain('SECRET');
  });
});
