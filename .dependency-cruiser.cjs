/**
 * The layer rules, checked by `npm run deps` (and `npm test`). Layers, lowest first; a module may import
 * its own layer and the layers below it, never one above:
 *
 *   core         functions/core/: pure (no I/O, no AWS, no clock); imports only core, zod, node:crypto
 *   messages     functions/messages/: the wording of every event
 *   cycle        functions/cycle/: one cycle against its ports
 *   features     functions/{webhook,uphance,adapters,board,digest,fanout}/: independent of one another,
 *                except that the adapters adapt the Uphance client (adapters -> uphance), store the
 *                fan-out's records (adapters -> fanout) and keep the digest's marker (adapters ->
 *                digest/marker.ts, its port), and that the fan-out reads the credentials the Uphance
 *                client takes (fanout -> uphance)
 *   runtime      functions/runtime/: the assembly room: configuration, AWS clients, Powertools, runtimes
 *   entry points functions/{handlers,cli}/: one file per Lambda, the command line; imported by nothing but
 *                tests, scripts, the benchmarks (handlers) and the demo (cli)
 *   infra        infra/: the stack; imports no entry point
 *
 * functions/shared/ and functions/telemetry.ts are leaves any layer above core may import: they import
 * nothing else from functions/. The simulator stands alone, and functions/ imports nothing outside it.
 */

const layers = [
  ['core', '^functions/core/'],
  ['messages', '^functions/messages/'],
  ['cycle', '^functions/cycle/'],
  ['features', '^functions/(webhook|uphance|adapters|board|digest|fanout)/'],
  ['runtime', '^functions/runtime/'],
  ['entry-points', '^functions/(handlers|cli)/'],
  ['infra', '^infra/'],
];

// One rule per layer above core (core-is-pure is stricter still): nothing imports a layer above its own.
const upwards = layers.slice(1, -1).map(([name, path], at) => {
  const above = layers.slice(at + 2);
  return {
    name: `${name}-imports-no-layer-above`,
    comment: `${name} imports no layer above it (${above.map(([n]) => n).join(', ')}): dependencies point inwards`,
    severity: 'error',
    from: { path },
    to: { path: above.map(([, p]) => p) },
  };
});

/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    {
      name: 'core-is-pure',
      comment:
        'functions/core/ imports nothing outside functions/core/ but zod (and node:crypto, see core-does-no-io)',
      severity: 'error',
      from: { path: '^functions/core/' },
      to: { pathNot: ['^functions/core/', '(^|/)node_modules/zod/'], dependencyTypesNot: ['core'] },
    },
    {
      name: 'core-does-no-io',
      comment:
        'functions/core/ imports no node module but node:crypto, for hashing (createHash: deterministic); fs, net, http, child_process and the rest are I/O',
      severity: 'error',
      from: { path: '^functions/core/' },
      to: { dependencyTypes: ['core'], pathNot: '^crypto$' },
    },
    ...upwards,
    {
      name: 'functions-in-a-layer',
      comment:
        'every module under functions/ is in a layer (or a leaf: shared/, telemetry.ts): a new folder or file is placed in the table above, so that the rules see it',
      severity: 'error',
      from: {},
      to: {
        path: '^functions/',
        pathNot: [
          ...layers.slice(0, -1).map(([, p]) => p),
          '^functions/shared/',
          '^functions/telemetry\\.ts$',
        ],
      },
    },
    {
      name: 'functions-in-a-layer-import',
      comment:
        'a module under functions/ outside every layer imports nothing either (see functions-in-a-layer)',
      severity: 'error',
      from: {
        path: '^functions/',
        pathNot: [
          ...layers.slice(0, -1).map(([, p]) => p),
          '^functions/shared/',
          '^functions/telemetry\\.ts$',
        ],
      },
      to: {},
    },
    {
      name: 'features-are-independent',
      comment:
        'webhook, uphance, board and digest import none of the other features: what two need goes lower',
      severity: 'error',
      from: { path: '^functions/(webhook|uphance|board|digest)/' },
      to: { path: '^functions/(webhook|uphance|adapters|board|digest|fanout)/', pathNot: '^functions/$1/' },
    },
    {
      name: 'fanout-reads-only-the-client',
      comment:
        'of the other features, the fan-out imports the Uphance client only (the credentials it takes)',
      severity: 'error',
      from: { path: '^functions/fanout/' },
      to: { path: '^functions/(webhook|adapters|board|digest)/' },
    },
    {
      name: 'adapters-adapt-only-the-client',
      comment:
        "of the other features, the adapters import the Uphance client and the digest's marker port only",
      severity: 'error',
      from: { path: '^functions/adapters/' },
      to: { path: '^functions/(webhook|board|digest)/', pathNot: '^functions/digest/marker\\.ts$' },
    },
    {
      name: 'shared-is-a-leaf',
      comment: 'functions/shared/ and functions/telemetry.ts import nothing else from functions/',
      severity: 'error',
      from: { path: '^functions/(shared/|telemetry\\.ts$)' },
      to: { path: '^functions/', pathNot: '^functions/(shared/|telemetry\\.ts$)' },
    },
    {
      name: 'handlers-are-entry-points',
      comment:
        'functions/handlers/ holds entry points only, one file each: a handler is imported by tests, scripts and benchmarks (which drive it as Lambda would) only, never by another handler; what two share lives in runtime/ or lower',
      severity: 'error',
      from: { pathNot: '^(test|scripts|bench|infra)/' },
      to: { path: '^functions/handlers/' },
    },
    {
      name: 'cli-is-an-entry-point',
      comment: 'the command line is imported by itself, tests, scripts and the demo only',
      severity: 'error',
      from: { pathNot: '^(functions/cli|test|scripts|demo|infra)/' },
      to: { path: '^functions/cli/' },
    },
    {
      name: 'infra-imports-no-entry-point',
      comment: 'the stack imports no handler or command module: what it shares with them lives lower',
      severity: 'error',
      from: { path: '^infra/' },
      to: { path: '^functions/(handlers|cli)/' },
    },
    {
      name: 'functions-import-no-tooling',
      comment:
        'what ships (functions/) imports nothing from the simulator, the demo, soak, bench, tests, local-aws, scripts or infra',
      severity: 'error',
      from: { path: '^functions/' },
      to: { path: '^(simulator|demo|soak|bench|test|local-aws|scripts|infra)/' },
    },
    {
      name: 'simulator-stands-alone',
      comment: 'the simulator imports only itself (and packages): never functions/ or the tooling around it',
      severity: 'error',
      from: { path: '^simulator/' },
      to: { pathNot: ['^simulator/', '(^|/)node_modules/'], dependencyTypesNot: ['core'] },
    },
    {
      name: 'no-circular',
      comment: 'no import cycles, type-only imports included',
      severity: 'error',
      from: {},
      to: { circular: true },
    },
    {
      name: 'not-to-unresolvable',
      comment: 'every import resolves',
      severity: 'error',
      from: {},
      to: { couldNotResolve: true },
    },
  ],
  options: {
    doNotFollow: { path: '(^|/)node_modules/' },
    // Type-only imports count: a cycle through types alone is still a cycle.
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: {
      exportsFields: ['exports'],
      conditionNames: ['import', 'require', 'node', 'default', 'types'],
      mainFields: ['module', 'main', 'types', 'typings'],
    },
  },
};
