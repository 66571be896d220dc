import { describe, expect, it } from 'vitest';
import { destinationOf } from '../../functions/adapters/channel-transports.js';
import { carriesStage, catalogue, DETAIL_TYPES } from '../../functions/core/events/catalogue.js';
import { CHANNEL_NAMES, CHANNELS } from '../../functions/messages/channels.js';
import { notifyConfig } from '../../functions/runtime/lambda-config.js';
import { exampleEvents } from '../../scripts/event-examples.js';

describe('the detail-type registry', () => {
  it('says a detail-type carries a stage exactly when its detail has stage.name', () => {
    const examples = exampleEvents();
    for (const type of DETAIL_TYPES) {
      const detail = examples[type].detail as { stage?: { name?: unknown } };
      expect(carriesStage(type), type).toBe(typeof detail.stage?.name === 'string');
    }
    expect(DETAIL_TYPES.filter(carriesStage)).toEqual([
      'StageStarted',
      'StageCompleted',
      'OrderStageCompleted',
      'StageStalled',
    ]);
  });

  it('titles every schema with its detail-type and describes it', () => {
    for (const type of DETAIL_TYPES) {
      const { schema } = catalogue[type];
      expect(schema.meta()?.title, type).toBe(type);
      expect(schema.description, type).toMatch(/\S/);
    }
  });
});

describe('the channel registry', () => {
  it('configures the notify function of each channel from its variable, and names them all otherwise', () => {
    for (const channel of CHANNEL_NAMES) {
      const variable = CHANNELS[channel].target.notifyVariable;
      expect(notifyConfig({ NOTIFY_CHANNEL: channel, [variable]: ' arn:target ' })).toEqual({
        channel,
        target: 'arn:target',
      });
      expect(() => notifyConfig({ NOTIFY_CHANNEL: channel })).toThrow(variable);
    }
    for (const unknown of ['teams', 'constructor', '']) {
      expect(() => notifyConfig({ NOTIFY_CHANNEL: unknown, EMAIL_TOPIC_ARN: 'arn:t' })).toThrow(
        'NOTIFY_CHANNEL must be slack (with SLACK_WEBHOOK_SECRET_ARN) or email (with EMAIL_TOPIC_ARN)',
      );
    }
  });

  it("reads a secret target's destination from the secret, and takes a topic's ARN as it is", async () => {
    const read: string[] = [];
    const readSecret = async (arn: string) => {
      read.push(arn);
      return '{"url":"https://hooks.slack.com/services/T/B/X"}';
    };
    await expect(destinationOf('slack', 'arn:secret', 'SLACK_WEBHOOK_SECRET_ARN', readSecret)).resolves.toBe(
      'https://hooks.slack.com/services/T/B/X',
    );
    await expect(destinationOf('email', 'arn:topic', 'EMAIL_TOPIC_ARN', readSecret)).resolves.toBe(
      'arn:topic',
    );
    expect(read).toEqual(['arn:secret']);
  });
});
