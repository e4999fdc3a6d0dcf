/**
 * What `npm pack` publishes (from the build present in dist/): only the server (dist/bundle, one
 * self-contained file per thread's entry, the main thread's behind a launcher) and package.json/README/LICENSE; nothing of dev/, test/ or bench/; no shipped
 * module that imports a dev dependency (installed with --omit=dev it could not load), an undeclared
 * package, or a file that is not in the package; and no source map that points nowhere.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { builtinModules } from 'node:module';
import { dirname, join, normalize } from 'node:path';
import { test } from 'node:test';
import { promisify } from 'node:util';
import { projectRoot } from './support/paths.js';

const SHIPPED = /^(dist\/bundle\/|package\.json$|README(\.md)?$|LICEN[SC]E(\.\w+)?$|NOTICE(\.\w+)?$|CHANGELOG\.md$)/;

/** What the bundler recorded of each output file it wrote (scripts/bundle.mjs → dist/bundle-meta.json, which does not ship). */
interface Metafile {
  outputs: Record<string, { imports: { path: string; kind: string; external?: boolean }[] }>;
}

/**
 * A package a shipped file loads with require() (CommonJS code bundled in, and our own lazy loads
 * through createRequire: pino, koffi). The bundler records only the imports it resolves.
 */
const REQUIRE_CALL = /\b(?:require\d*|createRequire\(import\.meta\.url\))\("([^"./][^"]*)"\)/g;
/** A dynamic import() whose specifier is an expression (`import(hook ?? "@napi-rs/keyring")`): the bundler records none. */
const DYNAMIC_IMPORT_DEFAULT = /\bimport\([\w.?\s]+\?\?\s*"([^"./][^"]*)"\)/g;

/** Every module an output file loads (static, dynamic or require), relative to the project or a package name. */
async function bundleImports(): Promise<Map<string, { path: string; external: boolean }[]>> {
  const meta = JSON.parse(await readFile(join(projectRoot, 'dist/bundle-meta.json'), 'utf8')) as Metafile;
  const outputs = Object.entries(meta.outputs).filter(([output]) => output.endsWith('.js'));
  return new Map(
    await Promise.all(
      outputs.map(async ([output, { imports }]) => {
        const source = await readFile(join(projectRoot, output), 'utf8');
        const required = [...source.matchAll(REQUIRE_CALL), ...source.matchAll(DYNAMIC_IMPORT_DEFAULT)].map((m) => ({ path: m[1]!, external: true }));
        // A file of the bundle that another imports by a relative path (the launcher's: scripts/bundle.mjs)
        // is left external by the bundler; here it is what it is, a file of the package.
        const bundled = (i: { path: string; external?: boolean }) =>
          i.external && i.path.startsWith('.') ? { path: join(dirname(output), i.path), external: false } : { path: i.path, external: i.external === true };
        const loads: { path: string; external: boolean }[] = [...imports.map(bundled), ...required];
        return [output, loads] as [string, typeof loads];
      }),
    ),
  );
}

/** `@scope/name/sub` → `@scope/name`, `name/sub` → `name`. */
const packageName = (specifier: string) => specifier.split('/').slice(0, specifier.startsWith('@') ? 2 : 1).join('/');

const BUILTINS = new Set(builtinModules);
const isBuiltin = (specifier: string) => specifier.startsWith('node:') || BUILTINS.has(packageName(specifier));

async function packedFiles(): Promise<string[]> {
  // --ignore-scripts: pack what is built now (prepack would rebuild under the other tests' feet).
  const { stdout } = await promisify(execFile)('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], { cwd: projectRoot, maxBuffer: 64 << 20 });
  const [pack] = JSON.parse(stdout) as [{ files: { path: string }[] }];
  return pack.files.map((f) => f.path);
}

test('the bundle says what each file loads (so the test below can fail): pino, koffi and undici from outside, the rest (piscina too) from inside', async () => {
  const imports = await bundleImports();
  const all = [...imports.values()].flat();
  for (const name of ['pino', 'koffi', 'undici']) assert.ok(all.some((i) => i.external && i.path === name), `${name} is loaded from node_modules`);
  // piscina is bundled, its pool and its thread entry (which the pool finds beside it as worker.js).
  assert.ok(!all.some((i) => i.external && packageName(i.path) === 'piscina'), 'piscina is bundled in');
  assert.ok(imports.has('dist/bundle/worker.js'), 'piscina\'s thread entry is bundled beside the pool');
  // One file per thread (scripts/bundle.mjs), but for the main thread's start: the launcher
  // (main.js) imports the server (cli.js) and the token-service pool it may start early, which the
  // server shares with it. No other file loads another file of the bundle.
  const within = (file: string) => [...new Set(imports.get(`dist/bundle/${file}.js`)!.filter((i) => !i.external).map((i) => i.path))].sort();
  assert.deepEqual(within('main'), ['dist/bundle/cli.js', 'dist/bundle/token-service-pool.js']);
  assert.deepEqual(within('cli'), ['dist/bundle/token-service-pool.js']);
  for (const [file, loads] of imports) {
    if (file !== 'dist/bundle/main.js' && file !== 'dist/bundle/cli.js') assert.deepEqual(loads.filter((i) => !i.external).map((i) => i.path), [], `${file} is self-contained`);
  }
  assert.deepEqual([...imports.keys()].sort(), ['cli', 'keyring', 'login', 'main', 'token-service', 'token-service-pool', 'worker'].map((name) => `dist/bundle/${name}.js`).sort());
});

test('npm pack holds the server only: no dev/test/bench file, no dev dependency, nothing that points outside the package', async () => {
  const manifest = JSON.parse(await readFile(join(projectRoot, 'package.json'), 'utf8')) as {
    dependencies?: Record<string, string>;
    devDependencies?: Record<string, string>;
  };
  const dependencies = new Set(Object.keys(manifest.dependencies ?? {}));
  const devDependencies = new Set(Object.keys(manifest.devDependencies ?? {}));
  const files = await packedFiles();
  const packed = new Set(files);
  for (const entry of ['main', 'cli', 'token-service-pool', 'token-service', 'login', 'keyring']) {
    assert.ok(files.includes(`dist/bundle/${entry}.js`), `the build is present (npm run build) and ${entry}.js ships`);
  }

  const problems: string[] = [];
  for (const file of files) {
    if (!SHIPPED.test(file)) problems.push(`${file} is not part of the server (only dist/bundle and package metadata ship)`);
  }
  const loads = await bundleImports();
  for (const file of files.filter((f) => f.endsWith('.js'))) {
    const source = await readFile(join(projectRoot, file), 'utf8');
    for (const { path, external } of loads.get(file) ?? []) {
      if (!external) {
        if (!packed.has(path)) problems.push(`${file} imports ${path}, which is not in the package`);
      } else if (!isBuiltin(path)) {
        const name = packageName(path);
        if (devDependencies.has(name) && !dependencies.has(name)) problems.push(`${file} imports ${path}, a devDependency (absent with --omit=dev)`);
        else if (!dependencies.has(name)) problems.push(`${file} imports ${path}, which package.json does not depend on`);
      }
    }
    const map = /\/\/# sourceMappingURL=(\S+)\s*$/.exec(source)?.[1];
    if (map && !map.startsWith('data:')) {
      const mapFile = normalize(join(dirname(file), map));
      if (!packed.has(mapFile)) problems.push(`${file} points at the source map ${map}, which is not in the package`);
    }
  }
  for (const file of files.filter((f) => f.endsWith('.map'))) {
    const map = JSON.parse(await readFile(join(projectRoot, file), 'utf8')) as { sources: string[]; sourcesContent?: (string | null)[] };
    map.sources.forEach((source, i) => {
      if (typeof map.sourcesContent?.[i] !== 'string' && !packed.has(normalize(join(dirname(file), source)))) {
        problems.push(`${file} maps to ${source}, which neither ships nor is inlined`);
      }
    });
  }
  assert.deepEqual(problems, []);
});

test('what ships names no build machine: only the bundle\'s .js and .js.map files, none holding the path it was built in', async () => {
  const files = await packedFiles();
  const problems: string[] = [];
  for (const file of files.filter((f) => f.startsWith('dist/bundle/'))) {
    // The bundler's metafile (dist/bundle-meta.json) lists absolute input paths: it stays in dist/.
    if (!/^dist\/bundle\/[\w-]+\.js(\.map)?$/.test(file)) problems.push(`${file} is neither a bundled thread nor its source map`);
  }
  for (const file of files) {
    const text = await readFile(join(projectRoot, file), 'utf8');
    if (text.includes(projectRoot.replace(/\/$/, ''))) problems.push(`${file} holds the build folder's absolute path (${projectRoot})`);
  }
  assert.deepEqual(problems, []);
});

test('package.json: a runtime dependency is one the bundle loads from node_modules (what it holds is a devDependency), and it says where the project lives', async () => {
  const manifest = JSON.parse(await readFile(join(projectRoot, 'package.json'), 'utf8')) as {
    dependencies?: Record<string, string>;
    repository?: { url?: string };
    bugs?: { url?: string };
    homepage?: string;
  };
  const loadedFromOutside = new Set(
    [...(await bundleImports()).values()].flat().filter((i) => i.external && !isBuiltin(i.path)).map((i) => packageName(i.path)),
  );
  const bundledYetDeclared = Object.keys(manifest.dependencies ?? {}).filter((name) => !loadedFromOutside.has(name));
  assert.deepEqual(bundledYetDeclared, [], 'these are inside the bundle: a user would install them for nothing');
  assert.deepEqual([...loadedFromOutside].sort(), Object.keys(manifest.dependencies ?? {}).sort());
  assert.match(manifest.repository?.url ?? '', /^git\+https:\/\/github\.com\/[\w-]+\/[\w-]+\.git$/);
  assert.match(manifest.bugs?.url ?? '', /^https:\/\/github\.com\/[\w-]+\/[\w-]+\/issues$/);
  assert.match(manifest.homepage ?? '', /^https:\/\/github\.com\/[\w-]+\/[\w-]+#readme$/);
});
