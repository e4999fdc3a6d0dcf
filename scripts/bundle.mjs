// Bundles each thread's entry of the tsc output into one file in dist/bundle/ (what the package
// runs: see the issue "Start-up, memory and the hot path"). Loading one file instead of ~150
// modules is most of what a start costs above bare Node. Modules a thread loads only later (the
// HTTP client of a refresh, JWT decoding) stay behind their dynamic import(), as chunks of their
// own, so a start still parses none of them; dist/bundle/meta.json records which inputs went
// where (test/startup-graph.test.ts reads it).
//
// Left outside the bundle: the native bindings (koffi, @napi-rs/keyring); piscina, which
// starts its threads from a file of its own package; and pino, which src/log.ts loads with a
// synchronous require() on the first line logged.
import { readFileSync, writeFileSync } from 'node:fs';
import { build } from 'esbuild';

const dist = new URL('../dist/', import.meta.url).pathname;
const { name, version } = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'));

/**
 * zod's index re-exports every locale (`z.locales`, ~40 languages); its messages are English
 * (src/protocol/zod.ts), and nothing here asks for another language. zod/mini, imported as a
 * namespace, leaves them to tree-shaking; this keeps them out should a `z` be used as a value.
 */
const englishOnly = {
  name: 'zod-english-only',
  setup(build) {
    build.onResolve({ filter: /\/locales\/index\.js$/ }, (args) =>
      args.importer.includes(`${'node_modules'}/zod/`) ? { path: args.resolveDir, namespace: 'zod-locales' } : undefined,
    );
    build.onLoad({ filter: /.*/, namespace: 'zod-locales' }, (args) => ({
      contents: `export { default as en } from ${JSON.stringify(`${args.path}/../locales/en.js`)};`,
      resolveDir: args.path,
    }));
  },
};

const result = await build({
  plugins: [englishOnly],
  absWorkingDir: dist,
  entryPoints: {
    main: 'src/cli/main.js',
    'token-service': 'workers/token-service/main.js',
    login: 'workers/login/main.js',
    keyring: 'workers/keyring/main.js',
  },
  outdir: 'bundle',
  // Chunks beside the entries: whichever file holds worker-files.ts, the URLs it makes hold.
  chunkNames: 'chunk-[hash]',
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  external: ['koffi', '@napi-rs/keyring', 'piscina', 'pino'],
  // src/worker-files.ts: in the bundle, the threads' entries are files beside the main one;
  // src/server/package-info.ts: name and version built in (no package.json two folders up).
  define: { CODEX_AUTH_MCP_BUNDLED: 'true', CODEX_AUTH_MCP_PACKAGE: JSON.stringify({ name, version }) },
  // Bundled CommonJS packages (commander) call require(); ESM has none of its own.
  banner: { js: "import { createRequire as __bundleRequire } from 'node:module'; const require = __bundleRequire(import.meta.url);" },
  // Readable output (stack traces, and test/package-contents.test.ts reads its imports).
  minifySyntax: true,
  sourcemap: 'linked',
  metafile: true,
  logLevel: 'warning',
});
writeFileSync(`${dist}bundle/meta.json`, JSON.stringify(result.metafile));
