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
// Left outside the bundle: the native bindings (koffi, @napi-rs/keyring); piscina, which
// starts its threads from a file of its own package; and pino, which src/log.ts loads with a
// synchronous require() on the first line logged.
import { readFileSync, writeFileSync } from 'node:fs';
import { build } from 'esbuild';
import { zodEnglishOnly } from './zod-english-only.mjs';

const root = new URL('../', import.meta.url).pathname;
const { name, version } = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'));

const result = await build({
  plugins: [zodEnglishOnly],
  absWorkingDir: root,
  tsconfig: 'tsconfig.json',
  entryPoints: {
    main: 'src/cli/main.ts',
    'token-service': 'workers/token-service/main.ts',
    login: 'workers/login/main.ts',
    keyring: 'workers/keyring/main.ts',
  },
  outdir: 'dist/bundle',
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
writeFileSync(`${root}dist/bundle/meta.json`, JSON.stringify(result.metafile));
