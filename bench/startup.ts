import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';

/**
 * Start-up time of the command line as a user meets it: `node bin/uphance-notifier.mjs --help`, over N
 * rounds (BENCH_RUNS, default 30) after two warm-ups. Each round runs every command once, interleaved, so
 * that a busy machine weighs on all of them alike: Node's own start (`node -e 0`, the floor) and the old
 * way (TypeScript through tsx at each start) are measured beside it. A figure, not a test.
 */
const runs = Number(process.env.BENCH_RUNS ?? 30);
if (!existsSync('dist/cli/main.mjs')) {
  process.stderr.write('dist/cli/main.mjs is missing: run npm run build:cli (npm install does it)\n');
  process.exit(1);
}

const commands: Record<string, string[]> = {
  'uphance-notifier --help': ['bin/uphance-notifier.mjs', '--help'],
  'uphance-notifier poll --help': ['bin/uphance-notifier.mjs', 'poll', '--help'],
  'tsx functions/cli/main.ts --help (before: compiled at each start)': [
    '--import',
    'tsx',
    'functions/cli/main.ts',
    '--help',
  ],
  'node -e 0 (the floor)': ['-e', '0'],
};
const times: Record<string, number[]> = Object.fromEntries(Object.keys(commands).map((k) => [k, []]));

for (let round = 0; round < runs + 2; round++) {
  for (const [label, args] of Object.entries(commands)) {
    const started = process.hrtime.bigint();
    const result = spawnSync(process.execPath, args, { encoding: 'utf8' });
    const ms = Number(process.hrtime.bigint() - started) / 1e6;
    if (result.status !== 0) throw new Error(`${label} failed: ${result.stderr}`);
    if (args.includes('--help') && !result.stdout.includes('Usage: uphance-notifier')) {
      throw new Error(`${label} printed no usage: ${result.stdout}`);
    }
    if (round >= 2) times[label]?.push(ms);
  }
}

const at = (sorted: number[], q: number) =>
  sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? 0;
for (const [label, values] of Object.entries(times)) {
  const sorted = [...values].sort((a, b) => a - b);
  process.stdout.write(
    `${label}: median ${at(sorted, 0.5).toFixed(0)} ms (min ${at(sorted, 0).toFixed(0)}, p90 ${at(sorted, 0.9).toFixed(0)}) over ${sorted.length} runs\n`,
  );
}
process.stdout.write(
  `Machine: ${cpus().length} × ${cpus()[0]?.model.trim() ?? 'cpu'}, node ${process.version}, load average ${loadavg()[0]?.toFixed(1)}\n`,
);
