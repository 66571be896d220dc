import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { DETAIL_TYPES } from '../functions/core/events/catalogue.js';
import { emailOf } from '../functions/messages/email.js';
import { slackPayloadOf } from '../functions/messages/slack.js';
import { exampleEvents } from './event-examples.js';

/**
 * The messages people read, one pair of files per detail-type, made from the catalogue's examples:
 * test/fixtures/messages/<DetailType>.slack.json (the incoming-webhook payload) and .email.txt (subject, a
 * blank line, body). `npm run messages` rewrites them; the unit tests fail when they drift.
 */
export const MESSAGE_DIR = 'test/fixtures/messages';

export const messageFixtures = (): Record<string, string> => {
  const files: Record<string, string> = {};
  const examples = exampleEvents();
  for (const type of DETAIL_TYPES) {
    const event = examples[type];
    const email = emailOf(event);
    files[`${type}.slack.json`] = `${JSON.stringify(slackPayloadOf(event), null, 2)}\n`;
    files[`${type}.email.txt`] = `Subject: ${email.subject}\n\n${email.body}`;
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
