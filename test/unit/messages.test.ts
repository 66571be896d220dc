import { readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { NotifierEvent } from '../../functions/core/events/catalogue.js';
import { DETAIL_TYPES } from '../../functions/core/events/catalogue.js';
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
    expect(Object.keys(expected)).toHaveLength(DETAIL_TYPES.length * 2);
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
