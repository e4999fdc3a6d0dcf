// Bundles each thread's entry, from the TypeScript sources, into one file in dist/bundle/ (what
// the package runs: see the issue "Start-up, memory and the hot path"). Loading one file instead
// of ~150 modules is most of what a start costs above bare Node. Modules a thread loads only
// later (the HTTP client of a refresh, JWT decoding) stay behind their dynamic import(), as
// chunks of their own, so a start still parses none of them; dist/bundle/meta.json records which
// inputs went where (test/startup-graph.test.ts reads it).
//
// From the sources, not from tsc's output: the bundle needs no type check first, so `npm pack`
// (prepack) bundles in a second instead of type-checking the whole project; `npm test` and CI
// type-check with `tsc -b`.
//
// Left outside the bundle: the native bindings (koffi, @napi-rs/keyring); and pino, which
// src/log.ts loads with a synchronous require() on the first line logged. piscina is bundled, pool and thread entry alike: the pool
// starts each thread from worker.js beside itself (through __dirname, which the banner defines),
// and one file loads faster than its dozen CommonJS modules (~14 ms less per start here).
import { readFileSync, writeFileSync } from 'node:fs';
import { build } from 'esbuild';
import { zodEnglishOnly } from './zod-english-only.mjs';

const root = new URL('../', import.meta.url).pathname;
const { name, version } = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'));

/**
 * piscina's thread loads the native @napi-rs/nice only for a pool's `niceIncrement`, which ours
 * never sets (and does without it when it is missing): an empty module stands in for it.
 */
const withoutNice = {
  name: 'without-napi-rs-nice',
  setup(build) {
    build.onResolve({ filter: /^@napi-rs\/nice$/ }, () => ({ path: 'nice', namespace: 'empty' }));
    build.onLoad({ filter: /.*/, namespace: 'empty' }, () => ({ contents: 'export {};' }));
  },
};

const result = await build({
  plugins: [zodEnglishOnly, withoutNice],
  absWorkingDir: root,
  tsconfig: 'tsconfig.json',
  entryPoints: {
    main: 'src/cli/main.ts',
    'token-service': 'workers/token-service/main.ts',
    login: 'workers/login/main.ts',
    keyring: 'workers/keyring/main.ts',
    // piscina's thread entry, bundled beside its pool code (which finds it as ./worker.js).
    worker: 'node_modules/piscina/dist/worker.js',
  },
  outdir: 'dist/bundle',
  // Chunks beside the entries: whichever file holds worker-files.ts, the URLs it makes hold.
  chunkNames: 'chunk-[hash]',
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  external: ['koffi', '@napi-rs/keyring', 'pino'],
  // src/worker-files.ts: in the bundle, the threads' entries are files beside the main one;
  // src/server/package-info.ts: name and version built in (no package.json two folders up).
  define: { CODEX_AUTH_MCP_BUNDLED: 'true', CODEX_AUTH_MCP_PACKAGE: JSON.stringify({ name, version }) },
  // Bundled CommonJS packages (commander, piscina) call require() and read __dirname; ESM has
  // neither of its own.
  banner: { js: "import { createRequire as __bundleRequire } from 'node:module'; import { fileURLToPath as __bundleFilePath } from 'node:url'; const require = __bundleRequire(import.meta.url); const __dirname = __bundleFilePath(new URL('.', import.meta.url));" },
  // Readable output (stack traces, and test/package-contents.test.ts reads its imports).
  minifySyntax: true,
  sourcemap: 'linked',
  metafile: true,
  logLevel: 'warning',
});
writeFileSync(`${root}dist/bundle/meta.json`, JSON.stringify(result.metafile));
