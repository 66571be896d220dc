import { readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { NotifierEvent } from '../../functions/core/events/catalogue.js';
import { DETAIL_TYPES } from '../../functions/core/events/catalogue.js';
import { CHANNEL_NAMES } from '../../functions/messages/channels.js';
import { emailOf } from '../../functions/messages/email.js';
import { lineOf, messageOf } from '../../functions/messages/message.js';
import { SLACK_LIMITS, slackPayloadOf } from '../../functions/messages/slack.js';
import { exampleEvents } from '../../scripts/event-examples.js';
import { MESSAGE_DIR, messageFixtures } from '../../scripts/message-fixtures.js';
import { validated } from '../helpers/orders.js';

const examples = exampleEvents();

/** Every text a Slack payload carries, to check against Slack's limits. */
const texts = (value: unknown): string[] => {
  if (Array.isArray(value)) return value.flatMap(texts);
  if (value && typeof value === 'object') {
    return Object.entries(value).flatMap(([key, child]) =>
      key === 'text' && typeof child === 'string' ? [child] : texts(child),
    );
  }
  return [];
};

describe('messages people read', () => {
  it('the fixture files are what the formatter makes (npm run messages rewrites them)', () => {
    const expected = messageFixtures();
    expect(readdirSync(MESSAGE_DIR).sort()).toEqual(Object.keys(expected).sort());
    for (const [name, text] of Object.entries(expected)) {
      expect(readFileSync(`${MESSAGE_DIR}/${name}`, 'utf8'), name).toBe(text);
    }
    // One fixture per detail-type and channel: a channel added to the registry gets its fixtures too.
    expect(Object.keys(expected)).toHaveLength(DETAIL_TYPES.length * CHANNEL_NAMES.length);
  });

  it.each(DETAIL_TYPES)(
    '%s: Slack within limits, email with an ASCII subject and no JSON or null',
    (type) => {
      const event = validated([examples[type]])[0] as NotifierEvent;
      const slack = slackPayloadOf(event);
      expect(slack.text).toBe(messageOf(event).title);
      expect(slack.blocks.length).toBeLessThanOrEqual(SLACK_LIMITS.blocks);
      expect(slack.blocks[0]).toMatchObject({ type: 'header', text: { type: 'plain_text' } });
      expect(slack.blocks.at(-1)).toMatchObject({ type: 'context' });
      for (const text of texts(slack.blocks)) expect(text.length).toBeLessThanOrEqual(SLACK_LIMITS.text);
      const email = emailOf(event);
      expect(email.subject).toMatch(/^PO 1308 - [\x20-\x7e]+$/);
      expect(email.subject.length).toBeLessThan(100);
      expect(email.body).not.toMatch(/\bnull\b|\bundefined\b|[{}"]/);
      expect(lineOf(event)).toContain('PO 1308 · ');
    },
  );

  it('the headlines of the production signals say what happened to which PO', () => {
    expect(messageOf(examples.OrderStageCompleted).title).toBe(
      'PO 1308 · Sewing completed on all 4 line items',
    );
    expect(messageOf(examples.OrderDueSoon).title).toBe('PO 1308 · due in 3 days and partly received');
    expect(messageOf(examples.OrderOverdue).title).toBe('PO 1308 · overdue by 2 days and partly received');
    expect(messageOf(examples.StageStalled).title).toBe(
      'PO 1308 · Packing on 3465O-3206 - Tie Frt V Neck Blouse Lt. Peach has not moved for 10 days',
    );
  });

  it('clips long values to Slack limits and SNS subjects to 99 ASCII characters', () => {
    const event = structuredClone(examples.StageStalled);
    if (event.detailType !== 'StageStalled') throw new Error('example');
    event.detail.lineItem.productName = `Blouse ${'é'.repeat(5_000)}`;
    event.detail.order.companyName = '<Tribal & Co>';
    const slack = slackPayloadOf(event);
    const header = slack.blocks[0] as { text: { text: string } };
    expect(header.text.text.length).toBe(SLACK_LIMITS.header);
    for (const text of texts(slack.blocks)) expect(text.length).toBeLessThanOrEqual(SLACK_LIMITS.text);
    expect(JSON.stringify(slack.blocks)).toContain('&lt;Tribal &amp; Co&gt;');
    const { subject } = emailOf(event);
    expect(subject.length).toBe(99);
    expect(subject).toMatch(/^[\x20-\x7e]+\.\.\.$/);
  });

  it('leaves out missing values instead of printing null', () => {
    const event = structuredClone(examples.OrderCreated);
    event.detail.order.companyName = null;
    event.detail.order.seasonId = null;
    event.detail.order.deliveryStatus = null;
    const labels = messageOf(event).fields.map((f) => f.label);
    expect(labels).not.toContain('Supplier');
    expect(labels).not.toContain('Season');
    expect(emailOf(event).body).not.toContain('null');
  });
});

describe('the API’s strings in messages', () => {
  const HOSTILE = '<!channel> URGENT <https://evil.example/login|Uphance: re-enter your password>';
  const ESCAPED =
    '&lt;!channel&gt; URGENT &lt;https://evil.example/login|Uphance: re-enter your password&gt;';
  /** The mrkdwn texts of a payload: the fallback and every block's but the plain_text header. */
  const mrkdwn = (slack: ReturnType<typeof slackPayloadOf>) => [slack.text, ...texts(slack.blocks.slice(1))];

  it.each(DETAIL_TYPES)('%s: a supplier named <!channel> is shown as typed and pings no one', (type) => {
    const event = structuredClone(examples[type]);
    event.detail.order.companyName = HOSTILE;
    if ('stage' in event.detail) (event.detail.stage as { name: string }).name = 'Sewing <!here>';
    const slack = slackPayloadOf(event);
    for (const text of mrkdwn(slack)) expect(text).not.toMatch(/[<>]/);
    expect(mrkdwn(slack).join('\n')).toContain(ESCAPED);
    // The header is plain_text, which Slack shows as it is and never parses.
    expect(slack.blocks[0]).toMatchObject({ text: { type: 'plain_text', text: messageOf(event).title } });
    // Plain text elsewhere: the email body and the terminal line show the name as typed.
    expect(emailOf(event).body).toContain(`Supplier:`);
    expect(emailOf(event).body).toContain(HOSTILE);
    expect(lineOf(event)).toContain(HOSTILE);
  });

  it.each(DETAIL_TYPES)('%s: a line break or a terminal escape in a value stays on its line', (type) => {
    const event = structuredClone(examples[type]);
    const clean = emailOf(event);
    event.detail.order.number = '1308\r\nBcc: victim@example.com';
    event.detail.order.companyName =
      'Atelier\u001b]8;;https://evil.example\u0007Nord\u001b[2J\u009b31m\u202e';
    if ('stage' in event.detail)
      (event.detail.stage as { name: string }).name = 'Sewing\nPO 1308 · all received';
    const email = emailOf(event);
    expect(email.subject).toMatch(/^PO 1308 Bcc: victim@example\.com - [\x20-\x7e]+$/);
    expect(email.subject.length).toBeLessThan(100);
    // As many lines as without the hostile values, and no control character but the line breaks.
    expect(email.body.split('\n')).toHaveLength(clean.body.split('\n').length);
    expect(email.body).not.toMatch(/(?!\n)[\p{Cc}\u202e]/u);
    const line = lineOf(event);
    expect(line).not.toMatch(/[\p{Cc}\u202e]/u);
    expect(line).toContain('Atelier\uFFFD]8;;https://evil.example\uFFFDNord\uFFFD[2J\uFFFD31m\uFFFD');
    for (const text of mrkdwn(slackPayloadOf(event))) expect(text).not.toMatch(/(?!\n)\p{Cc}/u);
  });
});
