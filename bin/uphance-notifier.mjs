#!/usr/bin/env node
// Runs the TypeScript entry point through tsx, so the command works right after `npm install`.
import { register } from 'tsx/esm/api';

process.removeAllListeners('warning');
process.on('warning', (warning) => {
  // The AWS SDK announces its future Node 22 requirement on every start; the rest are shown.
  if (warning.name !== 'NodeVersionSupportWarning')
    process.stderr.write(`${warning.name}: ${warning.message}\n`);
});
register();
await import('../functions/cli/main.ts');
