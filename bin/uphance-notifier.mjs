#!/usr/bin/env node
// Runs the command line built by `npm install` (the `prepare` script, into dist/cli): no TypeScript
// compilation at start. After changing functions/, `npm run build:cli` rebuilds it (`npm run poll` runs
// the sources directly).
await import('../dist/cli/main.mjs');
