import { execFileSync } from 'node:child_process';
import { cpSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';

/**
 * Builds the consumer package in packages/events: the events module and what it imports compiled by tsc
 * to ES modules with .d.ts (dist/), plus the generated JSON Schemas and examples (schemas/). Its
 * package.json and README are committed; what this writes is git-ignored.
 */
export const buildEvents = (root = resolve(import.meta.dirname, '..')): string => {
  const out = join(root, 'packages/events');
  rmSync(join(out, 'dist'), { recursive: true, force: true });
  rmSync(join(out, 'schemas'), { recursive: true, force: true });
  const tsc = join(dirname(createRequire(import.meta.url).resolve('typescript/package.json')), 'bin/tsc');
  execFileSync(process.execPath, [tsc, '-p', join(root, 'tsconfig.events.json')], { stdio: 'inherit' });
  cpSync(join(root, 'schemas'), join(out, 'schemas'), { recursive: true });
  return out;
};

if (import.meta.url === `file://${process.argv[1]}`) {
  process.stderr.write(`built ${buildEvents()}\n`);
}
