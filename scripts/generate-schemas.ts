import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { MAX_TEXT_LENGTH, MAX_WORD_LENGTH, TRUNCATION_MARKER } from '../functions/core/bounds.js';
import {
  DEFAULT_SOURCE,
  DETAIL_TYPES,
  detailSchemas,
  jsonSchemaOf,
} from '../functions/core/events/catalogue.js';
import { toEnvelope } from '../functions/core/events/envelope.js';
import { exampleEvents } from './event-examples.js';

/**
 * Generates, from the zod catalogue: schemas/<DetailType>.json (JSON Schema draft-04, for the EventBridge
 * schema registry), schemas/examples/<DetailType>.json and docs/events.md. With --check it only compares
 * and fails on any drift, so the committed files can never disagree with the code.
 */
const check = process.argv.includes('--check');
const drift: string[] = [];
const emit = (path: string, text: string) => {
  if (check) {
    let current = '';
    try {
      current = readFileSync(path, 'utf8');
    } catch {}
    if (current !== text) drift.push(path);
    return;
  }
  writeFileSync(path, text);
};

const WHEN: Record<string, string> = {
  OrderCreated:
    'an order is seen for the first time after the baseline (stages already under way give no stage events)',
  OrderStatusChanged:
    '`status` differs from the snapshot (a skipped transition is one event with the real from and to)',
  OrderDeliveryStatusChanged: '`delivery_status` differs from the snapshot',
  OrderAllReceived:
    'the delivery status became `all_received`; emitted right after OrderDeliveryStatusChanged',
  OrderDueDateChanged: '`due_date` differs (ISO dates or null)',
  StageStarted:
    "a line item's stage is in progress now and was neither in progress nor completed in the snapshot",
  StageCompleted:
    "a line item's stage is completed now and was not completed in the snapshot; one event per stage, oldest first",
  OrderRemoved:
    'an order in the snapshots is confirmed gone from the API (looked up, not merely missing from a page); carries the last snapshot',
  OrderStageCompleted:
    "no line item of the order is still before this stage or in it: each line item that has the stage has it completed, and none is at a stage that comes before it in the order's stage sequence (its line items' sequences merged, then the account's other orders; line items with no stage are not counted); once per stage name (a stage that reopens and completes again fires again); `stage.completedAt` is the latest end time",
  OrderDueSoon:
    'the due date is at most `dueSoonDays` (default 7) calendar days away in the configured time zone and not yet passed, and the order is not all received and not cancelled; once per due date (`due.days` 0 = today)',
  OrderOverdue:
    'the due date has passed (calendar days in the configured time zone) and the order is not all received and not cancelled; once per due date (`due.days` ≥ 1)',
  StageStalled:
    "a line item's stage has been in progress for more calendar days than its limit (`STALL_DAYS`, default 7, or `STALL_DAYS_BY_STAGE`), counted from its start time; once per line item, stage and start time",
  OrderAtRisk:
    "the forecast date on which production of the order completes is at least `riskDays` (`RISK_DAYS`, default 1) calendar days after its due date, and the order is not all received, not cancelled and not yet overdue; once per due date (a new due date re-arms it). The forecast comes from the account's own stage history: each stage's expected duration is the supplier's median where it has at least 5 completed durations of that stage, else the account's, else there is no forecast; a line item needs what remains of its current stage plus each stage after it in the order's stage sequence, and the order is its latest line item (`forecast.basis`: `supplier` when every stage used the supplier's own durations, `samples` the fewest behind any; `forecast.stage`: the current stage of the line item that finishes last)",
};

const examples = exampleEvents();
mkdirSync('schemas/examples', { recursive: true });
const sections: string[] = [];
for (const type of DETAIL_TYPES) {
  const schema = jsonSchemaOf(type);
  emit(`schemas/${type}.json`, `${JSON.stringify(schema, null, 2)}\n`);
  const example = examples[type];
  detailSchemas[type].parse(example.detail);
  const envelope = toEnvelope(example, {
    source: DEFAULT_SOURCE,
    account: '123456789012',
    region: 'eu-west-1',
  });
  emit(`schemas/examples/${type}.json`, `${JSON.stringify(envelope, null, 2)}\n`);
  const props = Object.keys((schema.properties as Record<string, unknown>) ?? {}).filter(
    (k) => !['schemaVersion', 'eventId', 'sequence', 'detectedAt', 'organisationId', 'order'].includes(k),
  );
  sections.push(
    [
      `## ${type}`,
      '',
      `When: ${WHEN[type]}.`,
      '',
      `Fields beyond the common ones: ${props.length ? props.map((p) => `\`${p}\``).join(', ') : 'none'}. Schema: [schemas/${type}.json](../schemas/${type}.json).`,
      '',
      '```json',
      JSON.stringify(envelope, null, 2),
      '```',
      '',
    ].join('\n'),
  );
}

const doc = `# Events

<!-- Generated by \`npm run schemas\` from functions/core/events/catalogue.ts; \`npm test\` fails if it drifts. -->

Every event is put on the notifier's bus with \`source\` = \`${DEFAULT_SOURCE}\` (configurable) and one of the
detail-types below. Consumers should dedupe on \`detail.eventId\`: delivery is at least once, and a duplicate
is always a re-emission with the same \`eventId\` and \`sequence\`.

Common fields of every \`detail\`:

| field | meaning |
|---|---|
| \`schemaVersion\` | \`"1"\` |
| \`eventId\` | stable: the same change always yields the same id, across retries and reruns |
| \`sequence\` | per order, from 1, up by exactly one per event: order them and see gaps |
| \`detectedAt\` | when the poller saw the change (UTC) |
| \`organisationId\` | the Uphance organisation (a number), on every event when organisations are configured |
| \`order\` | \`id\`, \`number\`, \`status\`, \`deliveryStatus\`, \`companyId\`, \`companyName\`, \`seasonId\`, \`dueDate\`, \`updatedAt\` as seen |

Vocabularies are the API's filter words in lower case: status \`draft|confirmed|complete|cancelled\`,
deliveryStatus \`not_received|receiving|all_received\`, stage status \`not_started|in_progress|completed\`.
An unknown value from the API is passed on normalised (lower case, spaces to \`_\`). Money stays a decimal
string; timestamps keep the API's offset.

Bounded values: so that one order with an absurd value can never exceed an event's or a state item's size
limit and stop the account, text from the API is cut before it reaches an event: names and colours
(\`companyName\`, \`productName\`, \`color\`) at ${MAX_TEXT_LENGTH} characters, identifiers and words (\`number\`,
statuses, stage names, timestamps, \`dueDate\`) at ${MAX_WORD_LENGTH}. A cut value ends with
\`${TRUNCATION_MARKER}\` and keeps that total length. An event the bus still refuses for good is set aside in the
state (metric \`EventsSetAside\`, with an alarm) and published again by \`npx uphance-notifier resend\`, with
its original \`eventId\` and \`sequence\`.

Production signals (\`OrderStageCompleted\`, \`OrderDueSoon\`, \`OrderOverdue\`, \`StageStalled\`, \`OrderAtRisk\`) are
derived each cycle from the fetched orders, their snapshots, the account's stage history and the cycle's clock.
Each fires when its condition turns true and not again while it stays true; a condition already true when an
order is first seen is recorded without an event. Days are calendar days in \`TIME_ZONE\` (default \`UTC\`);
\`DUE_SOON_DAYS\` (7), \`STALL_DAYS\` (7), \`STALL_DAYS_BY_STAGE\` (\`Sewing=14,Packing=3\`) and \`RISK_DAYS\` (1) set
the limits, 0 turning a signal off.

TypeScript types and zod schemas: \`import { StageCompleted, type StageCompletedDetail } from 'uphance-notifier-events'\`.

## Rule patterns

Slack on one stage name (Sewing) completing:

\`\`\`json
{ "source": ["${DEFAULT_SOURCE}"], "detail-type": ["StageCompleted"], "detail": { "stage": { "name": ["Sewing"] } } }
\`\`\`

Email when an order is all received:

\`\`\`json
{ "source": ["${DEFAULT_SOURCE}"], "detail-type": ["OrderAllReceived"] }
\`\`\`

Everything about one supplier:

\`\`\`json
{ "source": ["${DEFAULT_SOURCE}"], "detail": { "order": { "companyId": [59582] } } }
\`\`\`

${sections.join('\n')}`;
emit('docs/events.md', doc);

if (drift.length > 0) {
  process.stderr.write(`generated files are out of date (run npm run schemas): ${drift.join(', ')}\n`);
  process.exit(1);
}
process.stderr.write(
  check
    ? 'schemas, examples and docs/events.md match the catalogue\n'
    : `wrote ${DETAIL_TYPES.length} schemas, examples and docs/events.md\n`,
);
