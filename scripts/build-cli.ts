import { build } from 'esbuild';

/**
 * Builds the command line into dist/cli/ (ES modules, split so that `--help` loads only commander and the
 * program's definition; the poll cycle is loaded when a command runs). Dependencies stay in node_modules.
 * Runs on `npm install`/`npm ci` (the `prepare` script) and before the integration tests.
 */
export const buildCli = async (outdir = 'dist/cli'): Promise<void> => {
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
