export * from './api-schema.js';
export * from './diff.js';
export * from './event-id.js';
export * from './events/index.js';
export * from './order.js';
export * from './snapshot.js';
export * from './time.js';
export * from './vocabulary.js';
