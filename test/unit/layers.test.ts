import { spawnSync } from 'node:child_process';
import {
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildCli } from '../../scripts/build-cli.js';

/**
 * The layer rules bite: dependency-cruiser, run with the project's own config on a small tree laid out
 * like the project, names the rule each planted import breaks and passes the imports the layers allow.
 */

const root = resolve(import.meta.dirname, '../..');
const require = createRequire(import.meta.url);
const depcruise = join(root, 'node_modules/dependency-cruiser/bin/dependency-cruise.mjs');
const config = require(join(root, '.dependency-cruiser.cjs')) as {
  forbidden: Array<{ name: string; severity: string }>;
};

/** Imports the layers allow: none of these files may be reported. */
const allowed: Record<string, string> = {
  'functions/core/a.ts':
    "import { createHash } from 'node:crypto';\nimport { z } from 'zod';\nimport { b } from './b.js';\nexport const a = [createHash, z, b];\n",
  'functions/core/b.ts': 'export const b = 1;\n',
  'functions/shared/s.ts': 'export const s = 1;\n',
  'functions/telemetry.ts': "import { s } from './shared/s.js';\nexport const t = s;\n",
  'functions/messages/m.ts': "import { b } from '../core/b.js';\nexport const m = b;\n",
  'functions/cycle/c.ts':
    "import { b } from '../core/b.js';\nimport { m } from '../messages/m.js';\nimport { s } from '../shared/s.js';\nexport const c = [b, m, s];\n",
  'functions/uphance/u.ts': "import { c } from '../cycle/c.js';\nexport const u = c;\n",
  'functions/webhook/w.ts': "import { c } from '../cycle/c.js';\nexport const w = c;\n",
  'functions/board/bm.ts': "import { b } from '../core/b.js';\nexport const bm = b;\n",
  'functions/digest/d.ts': "import { b } from '../core/b.js';\nexport const d = b;\n",
  'functions/digest/marker.ts': 'export interface Marker {\n  at: string;\n}\n',
  'functions/adapters/marker-store.ts':
    "import type { Marker } from '../digest/marker.js';\nexport type Stored = Marker;\n",
  'functions/fanout/f.ts': "import type { u } from '../uphance/u.js';\nexport type F = typeof u;\n",
  'functions/adapters/ad.ts':
    "import { m } from '../messages/m.js';\nimport type { F } from '../fanout/f.js';\nimport { u } from '../uphance/u.js';\nexport const ad = [m, u];\nexport type Ad = F;\n",
  'functions/runtime/config.ts': "import { u } from '../uphance/u.js';\nexport const config = u;\n",
  'functions/runtime/wiring.ts':
    "import { ad } from '../adapters/ad.js';\nimport { t } from '../telemetry.js';\nimport { config } from './config.js';\nexport const wiring = [ad, t, config];\n",
  'functions/handlers/h.ts':
    "import { t } from '../telemetry.js';\nimport { wiring } from '../runtime/wiring.js';\nexport const h = [t, wiring];\n",
  'functions/handlers/h2.ts': 'export const h2 = 1;\n',
  'functions/cli/main.ts':
    "import { bm } from '../board/bm.js';\nimport { d } from '../digest/d.js';\nimport { wiring } from '../runtime/wiring.js';\nexport const main = [bm, d, wiring];\n",
  'infra/stack.ts':
    "import { b } from '../functions/core/b.js';\nimport { s } from '../functions/shared/s.js';\nexport const stack = [b, s];\n",
  'demo/start.ts':
    "import { main } from '../functions/cli/main.js';\nimport { sim } from '../simulator/sim.js';\nexport const start = [main, sim];\n",
  'simulator/sim.ts': "import { createServer } from 'node:http';\nexport const sim = createServer;\n",
  'test/t.test.ts':
    "import { h } from '../functions/handlers/h.js';\nimport { main } from '../functions/cli/main.js';\nimport { sim } from '../simulator/sim.js';\nexport const t = [h, main, sim];\n",
};

/** One import each that a rule forbids: the file, what it imports, and the rule expected to name it. */
const planted: Array<[file: string, source: string, rule: string]> = [
  // A new folder nobody placed in a layer: whatever it is, the rules must see it.
  [
    'functions/cycle/imports-unplaced.ts',
    "import { d } from '../dispatcher/d.js';\nexport const r = d;\n",
    'functions-in-a-layer',
  ],
  [
    'functions/dispatcher/d.ts',
    "import { c } from '../cycle/c.js';\nexport const d = c;\n",
    'functions-in-a-layer-import',
  ],
  [
    'functions/core/reads-files.ts',
    "import { readFileSync } from 'node:fs';\nexport const r = readFileSync;\n",
    'core-does-no-io',
  ],
  [
    'functions/core/spawns.ts',
    "import { spawn } from 'node:child_process';\nexport const r = spawn;\n",
    'core-does-no-io',
  ],
  [
    'functions/core/imports-cycle.ts',
    "import { c } from '../cycle/c.js';\nexport const r = c;\n",
    'core-is-pure',
  ],
  [
    'functions/core/imports-shared.ts',
    "import { s } from '../shared/s.js';\nexport const r = s;\n",
    'core-is-pure',
  ],
  [
    'functions/core/imports-aws.ts',
    "import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';\nexport type R = DynamoDBClient;\n",
    'core-is-pure',
  ],
  [
    'functions/messages/imports-cycle.ts',
    "import { c } from '../cycle/c.js';\nexport const r = c;\n",
    'messages-imports-no-layer-above',
  ],
  [
    'functions/cycle/imports-adapters.ts',
    "import type { ad } from '../adapters/ad.js';\nexport type R = typeof ad;\n",
    'cycle-imports-no-layer-above',
  ],
  [
    'functions/board/imports-wiring.ts',
    "import { wiring } from '../runtime/wiring.js';\nexport const r = wiring;\n",
    'features-imports-no-layer-above',
  ],
  [
    'functions/runtime/imports-cli.ts',
    "import { main } from '../cli/main.js';\nexport const r = main;\n",
    'runtime-imports-no-layer-above',
  ],
  [
    'functions/handlers/imports-infra.ts',
    "import { stack } from '../../infra/stack.js';\nexport const r = stack;\n",
    'entry-points-imports-no-layer-above',
  ],
  [
    'functions/digest/imports-board.ts',
    "import { bm } from '../board/bm.js';\nexport const r = bm;\n",
    'features-are-independent',
  ],
  [
    'functions/uphance/imports-adapters.ts',
    "import { ad } from '../adapters/ad.js';\nexport const r = ad;\n",
    'features-are-independent',
  ],
  [
    'functions/fanout/imports-adapters.ts',
    "import { ad } from '../adapters/ad.js';\nexport const r = ad;\n",
    'fanout-reads-only-the-client',
  ],
  [
    'functions/digest/imports-fanout.ts',
    "import type { F } from '../fanout/f.js';\nexport type R = F;\n",
    'features-are-independent',
  ],
  [
    'functions/fanout/imports-runtime.ts',
    "import { wiring } from '../runtime/wiring.js';\nexport const r = wiring;\n",
    'features-imports-no-layer-above',
  ],
  // The digest's marker port, and nothing else of the digest.
  [
    'functions/adapters/imports-digest.ts',
    "import { d } from '../digest/d.js';\nexport const r = d;\n",
    'adapters-adapt-only-the-client',
  ],
  [
    'functions/adapters/imports-webhook.ts',
    "import { w } from '../webhook/w.js';\nexport const r = w;\n",
    'adapters-adapt-only-the-client',
  ],
  [
    'functions/shared/imports-core.ts',
    "import { b } from '../core/b.js';\nexport const r = b;\n",
    'shared-is-a-leaf',
  ],
  [
    'functions/cli/imports-handler.ts',
    "import { h } from '../handlers/h.js';\nexport const r = h;\n",
    'handlers-are-entry-points',
  ],
  [
    'functions/handlers/imports-handler.ts',
    "import { h2 } from './h2.js';\nexport const r = h2;\n",
    'handlers-are-entry-points',
  ],
  [
    'functions/handlers/imports-cli.ts',
    "import { main } from '../cli/main.js';\nexport const r = main;\n",
    'cli-is-an-entry-point',
  ],
  [
    'soak/imports-cli.ts',
    "import { main } from '../functions/cli/main.js';\nexport const r = main;\n",
    'cli-is-an-entry-point',
  ],
  [
    'infra/imports-handler.ts',
    "import { h2 } from '../functions/handlers/h2.js';\nexport const r = h2;\n",
    'infra-imports-no-entry-point',
  ],
  [
    'functions/cycle/imports-simulator.ts',
    "import { sim } from '../../simulator/sim.js';\nexport const r = sim;\n",
    'functions-import-no-tooling',
  ],
  [
    'functions/adapters/imports-test.ts',
    "import { t } from '../../test/t.test.js';\nexport const r = t;\n",
    'functions-import-no-tooling',
  ],
  [
    'simulator/imports-functions.ts',
    "import type { b } from '../functions/core/b.js';\nexport type R = typeof b;\n",
    'simulator-stands-alone',
  ],
  [
    'functions/cycle/imports-nothing-there.ts',
    "import { gone } from './gone.js';\nexport const r = gone;\n",
    'not-to-unresolvable',
  ],
];

/** A cycle through type-only imports is still a cycle. */
const loop: Record<string, string> = {
  'functions/cycle/loop-a.ts': "import type { B } from './loop-b.js';\nexport interface A { b: B }\n",
  'functions/cycle/loop-b.ts': "import type { C } from './loop-c.js';\nexport interface B { c: C }\n",
  'functions/cycle/loop-c.ts': "import type { A } from './loop-a.js';\nexport interface C { a?: A }\n",
};

interface Violation {
  severity: string;
  rule: string;
  from: string;
}

let fixture: string;
let cruise: { status: number | null; output: string; violations: Violation[] };

const write = (file: string, source: string) => {
  mkdirSync(dirname(join(fixture, file)), { recursive: true });
  writeFileSync(join(fixture, file), source);
};

beforeAll(() => {
  fixture = mkdtempSync(join(tmpdir(), 'layers-'));
  // Packages resolve as in the project.
  symlinkSync(join(root, 'node_modules'), join(fixture, 'node_modules'));
  write(
    'tsconfig.json',
    JSON.stringify({ compilerOptions: { module: 'NodeNext', moduleResolution: 'NodeNext', strict: true } }),
  );
  for (const [file, source] of Object.entries(allowed)) write(file, source);
  for (const [file, source] of planted) write(file, source);
  for (const [file, source] of Object.entries(loop)) write(file, source);
  // As `npm run deps` runs it (the default reporter: one line per violation, the exit status the count).
  const run = spawnSync(
    process.execPath,
    [
      depcruise,
      '--config',
      join(root, '.dependency-cruiser.cjs'),
      'functions',
      'infra',
      'demo',
      'simulator',
      'soak',
      'test',
    ],
    { cwd: fixture, encoding: 'utf8' },
  );
  if (run.error) throw run.error;
  const violations = [...run.stdout.matchAll(/^\s*(error|warn|info) ([\w-]+): (\S+) →/gm)].map(
    ([, severity, rule, from]) => ({ severity, rule, from }) as Violation,
  );
  cruise = { status: run.status, output: run.stdout + run.stderr, violations };
});

afterAll(() => {
  if (fixture) rmSync(fixture, { recursive: true, force: true });
});

const rulesFrom = (file: string) => cruise.violations.filter((v) => v.from === file).map((v) => v.rule);

describe('the layer rules (.dependency-cruiser.cjs)', () => {
  it('are all errors', () => {
    expect(config.forbidden.length).toBeGreaterThan(10);
    for (const rule of config.forbidden) expect(`${rule.name}: ${rule.severity}`).toBe(`${rule.name}: error`);
  });

  it('fail the run, one error per violation', () => {
    expect(cruise.violations.length).toBeGreaterThanOrEqual(planted.length + 1);
    expect(cruise.violations.every((v) => v.severity === 'error')).toBe(true);
    expect(cruise.status).toBe(cruise.violations.length);
  });

  it.each(planted.map(([file, source, rule]) => [file, rule, source]))(
    '%s: reported as breaking %s',
    (file, rule) => {
      expect(rulesFrom(file), cruise.output).toContain(rule);
    },
  );

  it('report a cycle through type-only imports', () => {
    const cycles = cruise.violations.filter((v) => v.rule === 'no-circular');
    expect(cycles.length).toBeGreaterThan(0);
    for (const cycle of cycles) expect(Object.keys(loop)).toContain(cycle.from);
  });

  it('report nothing of the imports the layers allow', () => {
    expect(cruise.violations.filter((v) => v.from in allowed)).toEqual([]);
  });

  it('are each exercised here', () => {
    const exercised = new Set([...planted.map(([, , rule]) => rule), 'no-circular']);
    expect(config.forbidden.map((r) => r.name).filter((name) => !exercised.has(name))).toEqual([]);
  });
});

describe('the command line bundle (dist/cli)', () => {
  it('is built from functions/ alone: no simulator, demo or test code', async () => {
    const out = mkdtempSync(join(tmpdir(), 'cli-'));
    try {
      await buildCli(out);
      const maps = readdirSync(out).filter((name) => name.endsWith('.map'));
      const sources = maps.flatMap((map) =>
        (JSON.parse(readFileSync(join(out, map), 'utf8')) as { sources: string[] }).sources.map((s) =>
          relative(root, resolve(out, s)),
        ),
      );
      expect(sources).toContain('functions/cli/main.ts');
      expect(sources.filter((s) => !s.startsWith('functions/'))).toEqual([]);
    } finally {
      rmSync(out, { recursive: true, force: true });
    }
  });
});

/** Every TypeScript file under a folder, relative to the root. */
const sourcesUnder = (folder: string): string[] =>
  readdirSync(join(root, folder), { recursive: true, encoding: 'utf8' })
    .filter((name) => name.endsWith('.ts'))
    .map((name) => join(folder, name));

describe('the rooms stay small', () => {
  it('no file under functions/ is over 400 lines: a file that grows past it is split by its jobs', () => {
    const files = sourcesUnder('functions');
    expect(files.length).toBeGreaterThan(50);
    const long = files
      .map((file) => ({ file, lines: readFileSync(join(root, file), 'utf8').split('\n').length - 1 }))
      .filter(({ lines }) => lines > 400);
    expect(long).toEqual([]);
  });
});
