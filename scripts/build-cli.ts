import { rm } from 'node:fs/promises';
import { build } from 'esbuild';

/**
 * Builds the command line into dist/cli/ (ES modules, split so that `--help` loads only commander and the
 * program's definition; the poll cycle is loaded when a command runs). Dependencies stay in node_modules.
 * Runs on `npm install`/`npm ci` (the `prepare` script) and before the integration tests.
 */
export const buildCli = async (outdir = 'dist/cli'): Promise<void> => {
  // Chunks are named by their content: without this, every build would leave the previous ones behind.
  await rm(outdir, { recursive: true, force: true });
  await build({
    entryPoints: { main: 'functions/cli/main.ts' },
    outdir,
    bundle: true,
    splitting: true,
    format: 'esm',
    platform: 'node',
    target: 'node20',
    packages: 'external',
    outExtension: { '.js': '.mjs' },
    sourcemap: 'linked',
    logLevel: 'warning',
  });
};

if (import.meta.url === `file://${process.argv[1]}`) await buildCli();
