/**
 * What the main thread loads before it can answer `initialize`: the static import graph of the
 * built server entry. Every package in it is start-up time for every client that spawns us, so
 * the network stack (undici), JWT decoding (jose), the keyring binding and the embedded issuer
 * belong in the workers or behind a dynamic import(). A new package here must be a choice.
 *
 * The same holds, less strictly, for the token service thread: the first status request waits
 * for its first validation, and so does the announcement of every outside change (its threads
 * are not kept idle), so what it loads before it can validate is pinned too.
 */
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { serverEntry } from './support/paths.js';

/** The tsc output: its module graph, file by file, is that of the sources the bundle is made from. */
const mainEntry = fileURLToPath(new URL('../src/cli/cli.js', import.meta.url));
const tokenServiceWorker = fileURLToPath(new URL('../workers/token-service/main.js', import.meta.url));

/** `import … from '…'`, `export … from '…'` and bare `import '…'` of compiled ES modules; import() is left out on purpose. */
const STATIC_IMPORT = /^(?:import|export)\s[^;]*?\sfrom\s+['"]([^'"]+)['"]|^import\s+['"]([^'"]+)['"]/gms;

async function staticGraph(entry: string): Promise<{ files: Set<string>; packages: Set<string>; specifiers: Set<string> }> {
  const files = new Set<string>();
  const packages = new Set<string>();
  const specifiers = new Set<string>();
  const visit = async (file: string): Promise<void> => {
    if (files.has(file)) return;
    files.add(file);
    for (const match of (await readFile(file, 'utf8')).matchAll(STATIC_IMPORT)) {
      const specifier = (match[1] ?? match[2])!;
      if (specifier.startsWith('.')) await visit(resolve(dirname(file), specifier));
      else if (!specifier.startsWith('node:')) specifiers.add(specifier), packages.add(specifier.startsWith('@') ? specifier.split('/').slice(0, 2).join('/') : specifier.split('/')[0]!);
    }
  };
  await visit(entry);
  return { files, packages, specifiers };
}

/**
 * zod/mini and its English messages, through src/protocol/zod.ts: classic zod is the whole library
 * for every thread to load, and dearer schemas to build; mini alone would answer "Invalid input".
 */
function assertZodMini(specifiers: Set<string>): void {
  assert.deepEqual([...specifiers].filter((s) => s === 'zod' || s.startsWith('zod/')).sort(), ['zod/mini', 'zod/v4/locales/en.js']);
}

test('start-up loads only the packages the main thread needs; the network stack, JWT and keyring code stay out', async () => {
  const { files, packages, specifiers } = await staticGraph(mainEntry);
  assert.ok(files.size > 20, `the walk follows relative imports (${files.size} files)`);
  // Besides these, pino is loaded with require() on the first line logged (log.ts): no import, so
  // not in this graph.
  assert.deepEqual([...packages].sort(), ['comlink', 'commander', 'fastest-levenshtein', 'piscina', 'smol-toml', 'zod']);
  assertZodMini(specifiers);
  for (const file of files) assert.doesNotMatch(file, /\/(dev|workers)\//, `${file} is not for the main thread at start-up`);
});

/** Every import of compiled main-thread code (src/), dynamic ones included. */
const ANY_IMPORT = /(?:\bfrom\s+|\bimport\s*\(\s*|^import\s+)['"](\.{1,2}\/[^'"]+)['"]/gm;

test('a wing per thread: nothing under workers/ is imported by the main thread, not even lazily', async () => {
  const srcRoot = dirname(dirname(mainEntry));
  const { readdir } = await import('node:fs/promises');
  const sources = (await readdir(srcRoot, { recursive: true })).map(String).filter((f) => f.endsWith('.js'));
  assert.ok(sources.length > 40, `${sources.length} main-thread files`);
  for (const source of sources) {
    const file = resolve(srcRoot, source);
    for (const match of (await readFile(file, 'utf8')).matchAll(ANY_IMPORT)) {
      assert.doesNotMatch(resolve(dirname(file), match[1]!), /\/dist\/workers\//, `${source} imports ${match[1]}, which runs in a worker`);
    }
  }
});

test('the token service thread loads what reading credentials needs; the HTTP client waits for the first refresh', async () => {
  const { packages, specifiers } = await staticGraph(tokenServiceWorker);
  assert.deepEqual([...packages].sort(), ['jose', 'zod']);
  assertZodMini(specifiers);
  assert.ok(specifiers.has('jose/jwt/decode') && !specifiers.has('jose'), 'the JWT decoder alone, not the whole of jose');
});

interface Metafile {
  outputs: Record<string, { imports: { path: string; kind: string; external?: boolean }[]; inputs: Record<string, unknown> }>;
}

test('the bundle the package runs keeps it so: what main.js loads before its first answer has no network stack, JWT, keyring or dev code', async () => {
  const bundleDir = dirname(serverEntry);
  const meta = JSON.parse(await readFile(resolve(bundleDir, '../bundle-meta.json'), 'utf8')) as Metafile;
  // What a start loads: main.js (the launcher), the files of the bundle it imports (a relative
  // import the bundler left external: scripts/bundle.mjs), and theirs. Within each file esbuild
  // turns import() into a lazy init, so this checks all the file holds, its lazily loaded parts too.
  const loaded = new Set<string>();
  const visit = (output: string) => {
    if (loaded.has(output)) return;
    loaded.add(output);
    for (const imported of meta.outputs[output]!.imports) {
      if (imported.external && imported.path.startsWith('.')) visit(`dist/bundle/${imported.path.slice(2)}`);
      else if (!imported.external && imported.kind === 'import-statement') visit(imported.path);
    }
  };
  visit('dist/bundle/main.js');
  assert.deepEqual([...loaded].sort(), ['dist/bundle/cli.js', 'dist/bundle/main.js', 'dist/bundle/token-service-pool.js'], 'the launcher, the server and the pool');
  const inputs = [...loaded].flatMap((output) => Object.keys(meta.outputs[output]!.inputs));
  assert.ok(inputs.some((i) => i.includes('node_modules/zod/')), 'the walk sees the packages bundled in');
  const externals = [...loaded].flatMap((output) => meta.outputs[output]!.imports.filter((i) => i.external && i.kind === 'import-statement').map((i) => i.path));
  assert.deepEqual([...new Set(externals.filter((e) => !e.startsWith('node:') && !e.startsWith('.')))].sort(), [], 'pino is required, not imported; the rest is bundled');
  for (const input of inputs) assert.doesNotMatch(input, /node_modules\/(undici|jose|@napi-rs|oidc-provider)\/|^dev\/|^workers\//, `${input} is not for the main thread at start-up`);
});

test('the launcher is a launcher: main.js holds its own few lines and nothing else, so that the compile cache it turns on holds the rest', async () => {
  const meta = JSON.parse(await readFile(resolve(dirname(serverEntry), '../bundle-meta.json'), 'utf8')) as Metafile;
  // Node compiles an entry before its first line runs: what main.js itself holds is compiled at
  // every start on every Node version, and the compile cache (22.1+) holds only what it imports.
  // Besides its own lines: CODEX_HOME, and $CODEX_HOME/.env read before any thread starts (dotenv's parser).
  const launcher = Object.keys(meta.outputs['dist/bundle/main.js']!.inputs);
  const allowed = (input: string) => ['src/cli/main.ts', 'src/config/codex-home-env.ts', 'src/config/codex-dotenv.ts'].includes(input) || input.startsWith('node_modules/dotenv/') || input.startsWith('<define:');
  assert.ok(launcher.includes('src/cli/main.ts') && launcher.every(allowed), `main.js holds the launcher only: ${launcher.join(', ')}`);
  const pool = Object.keys(meta.outputs['dist/bundle/token-service-pool.js']!.inputs);
  assert.ok(pool.includes('src/auth/token-service-pool.ts') && pool.every((i) => i === 'src/auth/token-service-pool.ts' || i === 'src/worker-files.ts' || i.startsWith('node_modules/piscina/') || i.startsWith('<define:')), `the pool's file holds the pool and piscina only: ${pool.join(', ')}`);
  // One copy of the pool module: the one the launcher started early is the one the server adopts.
  const cli = Object.keys(meta.outputs['dist/bundle/cli.js']!.inputs);
  assert.ok(!cli.includes('src/auth/token-service-pool.ts') && !cli.some((i) => i.startsWith('node_modules/piscina/')), 'cli.js imports the pool, it does not hold a copy');
});

test('a signed-out start loads none of the Node modules the main thread needs only later (crypto, child_process, readline, stream/consumers)', async (t) => {
  // The bundle hoists a lazily initialised part's `import … from 'node:…'` to the top, and
  // commander require()s child_process as it loads; scripts/bundle.mjs (lazy-builtins) makes each
  // load on its first call instead. Seen from inside the server: Node's own list of what it loaded.
  const { mkdtemp, rm, writeFile } = await import('node:fs/promises');
  const { tmpdir } = await import('node:os');
  const { spawn } = await import('node:child_process');
  const dir = await mkdtemp(resolve(tmpdir(), 'startup-graph-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const preload = resolve(dir, 'loaded.cjs');
  const listFile = resolve(dir, 'loaded.txt');
  await writeFile(preload, `process.on('exit', () => require('node:fs').writeFileSync(${JSON.stringify(listFile)}, process.moduleLoadList.join('\\n')));\n`);
  const { mkdir } = await import('node:fs/promises');
  await mkdir(resolve(dir, 'home'), { mode: 0o700 });
  const child = spawn(process.execPath, ['--require', preload, serverEntry, 'mcp'], { env: { PATH: process.env['PATH'] ?? '', HOME: dir, CODEX_HOME: resolve(dir, 'home') }, stdio: ['pipe', 'pipe', 'inherit'] });
  let out = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => (out += chunk));
  child.stdin.end(
    `${JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 't', version: '1' } } })}\n` +
      `${JSON.stringify({ jsonrpc: '2.0', id: 2, method: 'getAuthStatus', params: {} })}\n`,
  );
  const code = await new Promise((done) => child.on('close', done));
  assert.equal(code, 0);
  assert.match(out, /"id":2,"result":\{/, 'the status was answered');
  const loaded = new Set((await readFile(listFile, 'utf8')).split('\n'));
  assert.ok(loaded.has('NativeModule worker_threads') || loaded.has('NativeModule fs'), 'the list names Node modules as "NativeModule <name>"');
  for (const name of ['crypto', 'child_process', 'readline', 'stream/consumers']) assert.ok(!loaded.has(`NativeModule ${name}`), `a signed-out start loaded node:${name}`);
});
