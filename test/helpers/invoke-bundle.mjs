// Loads a Lambda bundle and invokes its handler once, as the Lambda runtime would: plain JavaScript, run
// by the Node the test chooses (the runtime's major), with no TypeScript loader.
// Usage: node invoke-bundle.mjs BUNDLE.mjs EVENT_JSON RESULT_FILE
import { writeFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';

const [bundle, eventJson, resultFile] = process.argv.slice(2);
const started = Date.now();
const context = {
  awsRequestId: `req-${process.pid}`,
  functionName: 'UphanceNotifier-PollFunction',
  functionVersion: '$LATEST',
  invokedFunctionArn: 'arn:aws:lambda:us-east-1:123456789012:function:UphanceNotifier-PollFunction',
  memoryLimitInMB: '512',
  logGroupName: '/aws/lambda/UphanceNotifier-PollFunction',
  logStreamName: 'local',
  callbackWaitsForEmptyEventLoop: true,
  getRemainingTimeInMillis: () => 300_000 - (Date.now() - started),
};
let outcome;
try {
  const { handler } = await import(pathToFileURL(bundle).href);
  outcome = { node: process.version, result: await handler(JSON.parse(eventJson), context) };
} catch (error) {
  outcome = { node: process.version, error: String(error?.stack ?? error) };
}
writeFileSync(resultFile, JSON.stringify(outcome));
