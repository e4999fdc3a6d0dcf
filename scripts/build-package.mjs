// The build `npm pack` ships (prepack): dist/ emptied first, so no output of a source that was
// moved or deleted since ends up in the tarball, then each thread's entry bundled from the
// TypeScript sources into dist/bundle/ (scripts/bundle.mjs), the only folder shipped. Its source
// maps carry their sources inline. No type check here: `npm test` (tsc -b) and CI do that, and
// packing takes a second instead of a whole-project compile.
import { rmSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';

const root = new URL('..', import.meta.url).pathname;
try {
  createRequire(import.meta.url).resolve('esbuild');
} catch {
  console.error('build-package: esbuild is not installed; run `npm ci` first (packing builds from source)');
  process.exit(1);
}
rmSync(new URL('../dist', import.meta.url), { recursive: true, force: true });
const bundled = spawnSync(process.execPath, [new URL('./bundle.mjs', import.meta.url).pathname], { cwd: root, stdio: 'inherit' });
process.exit(bundled.status ?? 1);
