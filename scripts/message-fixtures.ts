import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import type { NotifierEvent } from '../functions/core/events/catalogue.js';
import { DETAIL_TYPES } from '../functions/core/events/catalogue.js';
import type { ChannelName, ChannelPayloads } from '../functions/messages/channels.js';
import { CHANNEL_NAMES, CHANNELS } from '../functions/messages/channels.js';
import { exampleEvents } from './event-examples.js';

/**
 * The messages people read, one file per detail-type and channel, made from the catalogue's examples:
 * test/fixtures/messages/<DetailType>.slack.json (the incoming-webhook payload) and .email.txt (subject, a
 * blank line, body). `npm run messages` rewrites them; the unit tests fail when they drift.
 */
export const MESSAGE_DIR = 'test/fixtures/messages';

/** Each channel's fixture: the end of its file name and its payload as text. */
const FIXTURES: { [C in ChannelName]: { suffix: string; text: (payload: ChannelPayloads[C]) => string } } = {
  slack: { suffix: 'slack.json', text: (payload) => `${JSON.stringify(payload, null, 2)}\n` },
  email: { suffix: 'email.txt', text: (email) => `Subject: ${email.subject}\n\n${email.body}` },
};

const fixtureOf = <C extends ChannelName>(channel: C, event: NotifierEvent) =>
  FIXTURES[channel].text(CHANNELS[channel].eventPayload(event));

export const messageFixtures = (): Record<string, string> => {
  const files: Record<string, string> = {};
  const examples = exampleEvents();
  for (const type of DETAIL_TYPES) {
    for (const channel of CHANNEL_NAMES) {
      files[`${type}.${FIXTURES[channel].suffix}`] = fixtureOf(channel, examples[type]);
    }
  }
  return files;
};

if (process.argv[1]?.endsWith('message-fixtures.ts')) {
  mkdirSync(MESSAGE_DIR, { recursive: true });
  const files = messageFixtures();
  for (const [name, text] of Object.entries(files)) {
    const path = `${MESSAGE_DIR}/${name}`;
    let current = '';
    try {
      current = readFileSync(path, 'utf8');
    } catch {}
    if (current !== text) writeFileSync(path, text);
  }
  process.stderr.write(`wrote ${Object.keys(files).length} message fixtures to ${MESSAGE_DIR}\n`);
}
