/** SendMessageBatch takes at most ten entries. */
export const SEND_BATCH_SIZE = 10;

/** A message for a FIFO queue: its body, its message group and its deduplication id. */
export interface FifoMessage {
  body: string;
  groupId: string;
  deduplicationId: string;
}

/** A FIFO message's fields as SendMessage and each SendMessageBatch entry take them. */
export const fifoFields = (message: FifoMessage) => ({
  MessageBody: message.body,
  MessageGroupId: message.groupId,
  MessageDeduplicationId: message.deduplicationId,
});
