import { parseArgs } from 'node:util';
import { formatSummary, runSoak } from './soak.js';

/** `npm run soak`: 1,000 seeded cycles under random faults; exits non-zero on any violation. */
const { values } = parseArgs({
  options: {
    cycles: { type: 'string', default: '1000' },
    seed: { type: 'string', default: '20261127' },
    'max-seconds': { type: 'string', default: '1200' },
    orders: { type: 'string', default: '300' },
  },
});
const summary = await runSoak({
  cycles: Number(values.cycles),
  seed: Number(values.seed),
  maxSeconds: Number(values['max-seconds']),
  orders: Number(values.orders),
  progress: (line) => process.stderr.write(`${line}\n`),
});
process.stdout.write(`${formatSummary(summary)}\n`);
process.exitCode = summary.violations.length === 0 && summary.lost === 0 ? 0 : 1;
