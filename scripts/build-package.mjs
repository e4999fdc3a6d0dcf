// The build `npm pack` ships (prepack): dist/ emptied first, so no output of a source that was
// moved or deleted since (an incremental build never removes one) ends up in the tarball, then
// only what the package runs (src/, workers/) compiled, then bundled into dist/bundle/ (the
// only folder shipped). Its source maps carry their sources inline.
import { rmSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';

const root = new URL('..', import.meta.url).pathname;
rmSync(new URL('../dist', import.meta.url), { recursive: true, force: true });
let tsc;
try {
  tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
} catch {
  console.error('build-package: TypeScript is not installed; run `npm ci` first (packing builds from source)');
  process.exit(1);
}
const { status } = spawnSync(process.execPath, [tsc, '-p', 'tsconfig.build.json'], { cwd: root, stdio: 'inherit' });
if (status !== 0) process.exit(status ?? 1);
// What the package runs: each thread's entry bundled into dist/bundle/ (scripts/bundle.mjs).
const bundled = spawnSync(process.execPath, [new URL('./bundle.mjs', import.meta.url).pathname], { cwd: root, stdio: 'inherit' });
process.exit(bundled.status ?? 1);
