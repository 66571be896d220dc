import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { cpus } from 'node:os';

/**
 * Start-up time of the command line as a user meets it: `node bin/uphance-notifier.mjs --help`, N runs
 * (BENCH_RUNS, default 30) after two warm-ups, median and spread of the wall time. A figure, not a test:
 * wall time depends on the machine.
 */
const runs = Number(process.env.BENCH_RUNS ?? 30);
if (!existsSync('dist/cli/main.mjs')) {
  process.stderr.write('dist/cli/main.mjs is missing: run npm run build:cli (npm install does it)\n');
  process.exit(1);
}

const measure = (args: string[]): number[] => {
  const times: number[] = [];
  for (let i = 0; i < runs + 2; i++) {
    const started = process.hrtime.bigint();
    const result = spawnSync(process.execPath, ['bin/uphance-notifier.mjs', ...args], { encoding: 'utf8' });
    const ms = Number(process.hrtime.bigint() - started) / 1e6;
    if (result.status !== 0 || !result.stdout.includes('Usage: uphance-notifier')) {
      throw new Error(`uphance-notifier ${args.join(' ')} failed: ${result.stderr}`);
    }
    if (i >= 2) times.push(ms);
  }
  return times.sort((a, b) => a - b);
};

const at = (sorted: number[], q: number) =>
  sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? 0;
const report = (label: string, sorted: number[]) =>
  `${label}: median ${at(sorted, 0.5).toFixed(0)} ms (min ${at(sorted, 0).toFixed(0)}, p90 ${at(sorted, 0.9).toFixed(0)}) over ${sorted.length} runs`;

const bare = measure(['--help']);
const poll = measure(['poll', '--help']);
const node = (() => {
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    const started = process.hrtime.bigint();
    spawnSync(process.execPath, ['-e', '0']);
    times.push(Number(process.hrtime.bigint() - started) / 1e6);
  }
  return times.sort((a, b) => a - b);
})();
process.stdout.write(
  `${[
    report('uphance-notifier --help', bare),
    report('uphance-notifier poll --help', poll),
    report('node -e 0 (the floor)', node),
    `Machine: ${cpus().length} × ${cpus()[0]?.model.trim() ?? 'cpu'}, node ${process.version}`,
  ].join('\n')}\n`,
);
