import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DETAIL_TYPES } from '../../functions/core/events/catalogue.js';

const root = resolve(import.meta.dirname, '../..');
const tsc = join(dirname(createRequire(import.meta.url).resolve('typescript/package.json')), 'bin/tsc');
/** Runs a command; a failure carries its output, so that a type error is readable in the test report. */
const run = (cwd: string, command: string, args: string[]): string => {
  try {
    return execFileSync(command, args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  } catch (error) {
    const { stdout, stderr } = error as { stdout?: string; stderr?: string };
    throw new Error(`${command} ${args.join(' ')} failed:\n${stdout ?? ''}${stderr ?? ''}`);
  }
};

/** What another repository would write: a typed handler fed with the package's own example. */
const CONSUMER = `import {
  StageCompleted,
  type StageCompletedDetail,
  type EventBridgeEnvelope,
  DETAIL_TYPES,
} from 'uphance-notifier-events';
import example from 'uphance-notifier-events/examples/StageCompleted.json' with { type: 'json' };
import schema from 'uphance-notifier-events/schemas/StageCompleted.json' with { type: 'json' };

const handle = (event: EventBridgeEnvelope<StageCompletedDetail>): string =>
  \`PO \${event.detail.order.number}: \${event.detail.stage.name} \${event.detail.stage.status} (#\${event.detail.sequence})\`;

// The types are real types, not any: this line must not compile.
// @ts-expect-error sequence is a number
const wrong: StageCompletedDetail['sequence'] = 'seven';

const detail = StageCompleted.parse({ ...example.detail, addedLater: 'kept' });
const rejected = StageCompleted.safeParse({ ...example.detail, sequence: 'seven' }).success;
process.stdout.write(
  JSON.stringify({
    line: handle({ ...example, detail } as EventBridgeEnvelope<StageCompletedDetail>),
    addedLater: (detail as Record<string, unknown>).addedLater,
    rejected,
    types: DETAIL_TYPES.length,
    schemaTitle: schema.title,
    wrong: typeof wrong,
  }),
);
`;

let work: string;
let tarball: string;

beforeAll(() => {
  work = mkdtempSync(join(tmpdir(), 'uphance-events-consumer-'));
  // Plain `npm pack` in the package: its prepack script builds it (nothing built is left from before).
  const packageDir = join(root, 'packages/events');
  rmSync(join(packageDir, 'dist'), { recursive: true, force: true });
  rmSync(join(packageDir, 'schemas'), { recursive: true, force: true });
  const packed = run(packageDir, 'npm', ['pack', '--pack-destination', work, '--json']);
  tarball = join(work, (JSON.parse(packed) as Array<{ filename: string }>)[0]?.filename ?? '');
}, 120_000);
afterAll(() => {
  if (work) rmSync(work, { recursive: true, force: true });
});

describe('the consumer package uphance-notifier-events', () => {
  it('packs compiled ES modules with .d.ts, the JSON Schemas and the examples, and no TypeScript source', () => {
    const listing = run(work, 'tar', ['-tzf', tarball]).split('\n');
    const under = (dir: string) => listing.filter((f) => f.startsWith(`package/${dir}/`)).length;
    expect(under('dist')).toBeGreaterThan(0);
    expect(under('schemas')).toBeGreaterThanOrEqual(DETAIL_TYPES.length * 2);
    expect(under('schemas/examples')).toBe(DETAIL_TYPES.length);
    expect(listing).toEqual(
      expect.arrayContaining([
        'package/package.json',
        'package/dist/core/events/index.js',
        'package/dist/core/events/index.d.ts',
        'package/dist/core/events/catalogue.js',
        'package/dist/core/vocabulary.js',
        'package/schemas/StageCompleted.json',
        'package/schemas/examples/StageCompleted.json',
      ]),
    );
    expect(listing.filter((f) => f.endsWith('.ts') && !f.endsWith('.d.ts'))).toEqual([]);
  });

  it('installs offline into a project outside the repository, type-checks and validates an example', () => {
    const project = join(work, 'consumer');
    execFileSync('mkdir', ['-p', project]);
    writeFileSync(
      join(project, 'package.json'),
      JSON.stringify({
        name: 'consumer',
        private: true,
        type: 'module',
        // zod comes from this repository's node_modules: the test needs no network.
        dependencies: {
          'uphance-notifier-events': `file:${tarball}`,
          zod: `file:${join(root, 'node_modules/zod')}`,
        },
      }),
    );
    writeFileSync(
      join(project, 'tsconfig.json'),
      JSON.stringify({
        compilerOptions: {
          target: 'ES2022',
          module: 'NodeNext',
          moduleResolution: 'NodeNext',
          strict: true,
          noUncheckedIndexedAccess: true,
          resolveJsonModule: true,
          skipLibCheck: false,
          types: [],
          lib: ['ES2023', 'DOM'], // zod's declarations name URL
          outDir: 'out',
        },
        files: ['consumer.ts', 'globals.d.ts'],
      }),
    );
    // The consumer writes to stdout; a declaration spares it @types/node.
    writeFileSync(
      join(project, 'globals.d.ts'),
      'declare const process: { stdout: { write(s: string): boolean } };\n',
    );
    writeFileSync(join(project, 'consumer.ts'), CONSUMER);
    run(project, 'npm', ['install', '--offline', '--no-audit', '--no-fund', '--loglevel=error']);
    expect(readdirSync(join(project, 'node_modules/uphance-notifier-events'))).not.toContain('functions');

    run(project, process.execPath, [tsc, '-p', 'tsconfig.json']);
    const output = JSON.parse(run(project, process.execPath, ['out/consumer.js']));
    expect(output).toEqual({
      line: expect.stringMatching(/^PO \d+: \S.* completed \(#\d+\)$/),
      addedLater: 'kept',
      rejected: false,
      types: DETAIL_TYPES.length,
      schemaTitle: 'StageCompleted',
      wrong: 'string',
    });
    // npm install and tsc take tens of seconds on a busy machine.
  }, 240_000);
});
