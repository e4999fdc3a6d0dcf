/**
 * What `npm pack` publishes (from the build present in dist/): only the server (dist/src,
 * dist/workers) and package.json/README/LICENSE; nothing of dev/, test/ or bench/; no shipped
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

const SHIPPED = /^(dist\/src\/|dist\/workers\/|package\.json$|README(\.md)?$|LICEN[SC]E(\.\w+)?$|NOTICE(\.\w+)?$|CHANGELOG\.md$)/;

/** Specifiers of a compiled ES module: import/export … from, bare import, import(), require(), new URL(…, import.meta.url). */
function moduleReferences(source: string): { imports: string[]; urls: string[] } {
  const imports: string[] = [];
  const urls: string[] = [];
  const patterns: [RegExp, string[]][] = [
    [/^\s*(?:import|export)\s[^;]*?\sfrom\s*['"]([^'"]+)['"]/gm, imports],
    [/^\s*import\s*['"]([^'"]+)['"]/gm, imports],
    [/\bimport\s*\(\s*['"`]([^'"`]+)['"`]\s*\)/g, imports],
    [/\brequire\s*\(\s*['"`]([^'"`]+)['"`]\s*\)/g, imports],
    [/\bnew URL\(\s*['"`](\.{1,2}\/[^'"`]+)['"`]\s*,\s*import\.meta\.url\s*\)/g, urls],
  ];
  for (const [pattern, into] of patterns) for (const match of source.matchAll(pattern)) into.push(match[1]!);
  return { imports, urls };
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

test('the scanner sees every way a module can load a package (so the test below can fail)', () => {
  const { imports, urls } = moduleReferences(
    [
      "import Provider from 'oidc-provider';",
      "import { z } from 'zod';",
      "export { x } from './x.js';",
      "import 'side-effect';",
      "  const m = await import('@scope/pkg/sub');",
      "const r = require('cjs-only');",
      "const w = new URL('../../dev/demo.js', import.meta.url);",
    ].join('\n'),
  );
  assert.deepEqual(imports.sort(), ['./x.js', '@scope/pkg/sub', 'cjs-only', 'oidc-provider', 'side-effect', 'zod']);
  assert.deepEqual(urls, ['../../dev/demo.js']);
  assert.equal(packageName('@scope/pkg/sub'), '@scope/pkg');
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
  assert.ok(files.some((f) => f === 'dist/src/cli/main.js'), 'the build is present (npm run build) and the entry ships');
  assert.ok(files.filter((f) => f.endsWith('.js')).length > 40, `${files.length} files`);

  const problems: string[] = [];
  for (const file of files) {
    if (!SHIPPED.test(file)) problems.push(`${file} is not part of the server (only dist/src, dist/workers and package metadata ship)`);
  }
  for (const file of files.filter((f) => f.endsWith('.js'))) {
    const source = await readFile(join(projectRoot, file), 'utf8');
    const { imports, urls } = moduleReferences(source);
    for (const specifier of imports) {
      if (specifier.startsWith('.')) {
        const target = normalize(join(dirname(file), specifier));
        if (!packed.has(target)) problems.push(`${file} imports ${specifier}, which is not in the package`);
      } else if (!isBuiltin(specifier)) {
        const name = packageName(specifier);
        if (devDependencies.has(name) && !dependencies.has(name)) problems.push(`${file} imports ${specifier}, a devDependency (absent with --omit=dev)`);
        else if (!dependencies.has(name)) problems.push(`${file} imports ${specifier}, which package.json does not depend on`);
      }
    }
    for (const url of urls) {
      const target = normalize(join(dirname(file), url));
      if (!packed.has(target)) problems.push(`${file} refers to ${url}, which is not in the package`);
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
