// Bundles each thread's entry, from the TypeScript sources, into one self-contained file in
// dist/bundle/ (what the package runs: see the issue "Start-up, memory and the hot path").
// Loading one file instead of ~150 modules is most of what a start costs above bare Node.
//
// One file per thread (but for the launcher: below), with no chunks shared between them: on Node 20, which has no compile
// cache, every further ES module a start loads costs more than the bytes sharing would save (a
// start with tokens: 0.230 → 0.205 CPU-s; signed out: 0.149 → 0.140; 20 runs each). What a thread
// needs only later (the CLI's commands, the login engine) is in its file behind a dynamic import()
// that esbuild turns into a lazy init: V8 only pre-parses it, and nothing of it runs at start.
// dist/bundle-meta.json records which inputs went where (test/startup-graph.test.ts reads it); it
// sits beside dist/bundle, not in it, so it does not ship (it holds this machine's absolute paths).
//
// The one exception, the main thread's start: main.js is a launcher of a few lines (src/cli/main.ts)
// that turns on Node's compile cache (22.1+) and then imports cli.js, the server and the CLI, and
// token-service-pool.js, the pool it may start early. Node compiles the entry module before any of
// its code runs, so a cache the entry turns on never holds the entry itself: while the whole
// server was main.js, the cache held nothing at all (issue "Start-up and memory on the Node our
// users run"). The pool is a file of its own so that the launcher and the server share one
// module, and with it the pool started early (a copy in each would each have its own).
//
// From the sources, not from tsc's output: the bundle needs no type check first, so `npm pack`
// (prepack) bundles in a second instead of type-checking the whole project; `npm test` and CI
// type-check with `tsc -b`.
//
// Left outside the bundle: the native bindings (koffi, @napi-rs/keyring); pino, which src/log.ts
// loads with a synchronous require() on the first line logged; and undici (~1 MB), which only a
// proxied request loads (workers/shared/issuer-fetch.ts), from the package's own dependencies.
// piscina is bundled, pool and thread entry alike: the pool starts each thread from worker.js
// beside itself (through __dirname, which the banner defines), and one file loads faster than its
// dozen CommonJS modules (~14 ms less per start here).
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
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

/**
 * The launcher's two imports, and the server's imports of the pool, stay imports of the files
 * beside it (see above) instead of being bundled in.
 */
const separateStartFiles = {
  name: 'separate-start-files',
  setup(build) {
    const separate = new Map([
      [`${root}src/auth/token-service-pool`, './token-service-pool.js'],
      [`${root}src/cli/cli`, './cli.js'],
    ]);
    build.onResolve({ filter: /^\.\.?\/.*(token-service-pool|cli)\.js$/ }, (args) => {
      if (!args.importer.startsWith(`${root}src/`)) return undefined;
      const target = separate.get(resolve(dirname(args.importer), args.path).replace(/\.js$/, ''));
      return target ? { path: target, external: true } : undefined;
    });
  },
};

/**
 * Node modules the main thread needs only for some commands or requests (hashing a fingerprint,
 * a keyring helper, a prompt, a sign-in's random ids) load when first called instead of at every
 * start: a bundle hoists every `import … from 'node:…'` of its lazily initialised parts to the top,
 * and commander require()s child_process as it loads. node:crypto alone is 25 of Node's internal
 * modules on Node 24 (+2 MB RSS, +18M instructions a start); these four together +7 MB and +30M.
 * Each stands in as a module of functions that load the real one on their first call; a name that
 * is not a function of it is no export, so importing one fails the build rather than misbehaving.
 */
const LAZY_BUILTINS = ['node:crypto', 'node:child_process', 'node:readline', 'node:stream/consumers'];
const lazyBuiltins = {
  name: 'lazy-builtins',
  setup(build) {
    build.onResolve({ filter: /^(node:)?(crypto|child_process|readline|stream\/consumers)$/ }, (args) => {
      const name = args.path.startsWith('node:') ? args.path : `node:${args.path}`;
      // The main thread's code only (src/, and commander in the CLI); the threads load what they import.
      const mainThread = args.importer.startsWith(`${root}src/`) || args.importer.includes('/node_modules/commander/');
      return LAZY_BUILTINS.includes(name) && mainThread ? { path: name, namespace: 'lazy-builtin' } : undefined;
    });
    build.onLoad({ filter: /.*/, namespace: 'lazy-builtin' }, async (args) => {
      const real = await import(args.path);
      const functions = Object.keys(real).filter((key) => key !== 'default' && typeof real[key] === 'function' && /^[a-z]/.test(key));
      const contents = [
        `let loaded;`,
        `const load = () => (loaded ??= require(${JSON.stringify(args.path)}));`,
        ...functions.map((key) => `export function ${key}(...args) { return load().${key}(...args); }`),
      ].join('\n');
      return { contents, loader: 'js', resolveDir: root };
    });
  },
};

// Emptied first: esbuild only adds files, and a file left from an earlier layout would linger.
rmSync(`${root}dist/bundle`, { recursive: true, force: true });
const result = await build({
  plugins: [zodEnglishOnly, withoutNice, separateStartFiles, lazyBuiltins],
  absWorkingDir: root,
  tsconfig: 'tsconfig.json',
  entryPoints: {
    main: 'src/cli/main.ts',
    cli: 'src/cli/cli.ts',
    'token-service-pool': 'src/auth/token-service-pool.ts',
    'token-service': 'workers/token-service/main.ts',
    login: 'workers/login/main.ts',
    keyring: 'workers/keyring/main.ts',
    // piscina's thread entry, bundled beside its pool code (which finds it as ./worker.js).
    worker: 'node_modules/piscina/dist/worker.js',
  },
  outdir: 'dist/bundle',
  bundle: true,
  // Each entry is bundled on its own (see above).
  splitting: false,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  external: ['koffi', '@napi-rs/keyring', 'pino', 'undici'],
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
writeFileSync(`${root}dist/bundle-meta.json`, JSON.stringify(result.metafile));
