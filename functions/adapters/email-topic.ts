import type { SNSClient } from '@aws-sdk/client-sns';
import { PublishCommand } from '@aws-sdk/client-sns';
import type { DigestMessage } from '../messages/channels.js';
import { CHANNELS } from '../messages/channels.js';
import type { Email } from '../messages/email.js';

/**
 * Publishes an email to the SNS topic its addresses subscribe to: the subject as SNS's Subject (EventBridge
 * cannot set one), the body as the message.
 */
export const publishEmail = async (
  sns: Pick<SNSClient, 'send'>,
  topicArn: string,
  email: Email,
): Promise<void> => {
  await sns.send(new PublishCommand({ TopicArn: topicArn, Subject: email.subject, Message: email.body }));
};

/** The digest's email channel: its payload (channels.ts) published to the topic. */
export const emailChannel =
  (topicArn: string, sns: Pick<SNSClient, 'send'>) =>
  (message: DigestMessage): Promise<void> =>
    publishEmail(sns, topicArn, CHANNELS.email.digestPayload(message));
