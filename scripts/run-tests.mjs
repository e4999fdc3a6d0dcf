// Runs every compiled test file (dist/test/**/*.test.js) with Node's built-in test runner.
// Node 20 takes file paths, Node 22+ takes globs; listing the files ourselves works on both.
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';

const root = new URL('../dist/test/', import.meta.url).pathname;
const only = process.argv.slice(2); // optional substrings to pick files, e.g. `npm test -- config`
const files = readdirSync(root, { recursive: true, withFileTypes: false })
  .map(String)
  .filter((f) => f.endsWith('.test.js'))
  .filter((f) => only.length === 0 || only.some((o) => f.includes(o)))
  .sort()
  .map((f) => join(root, f));

if (files.length === 0) {
  console.error('run-tests: no test files found under dist/test');
  process.exit(1);
}
const result = spawnSync(
  process.execPath,
  ['--test', '--test-reporter=spec', '--test-concurrency=2', ...files],
  { stdio: 'inherit' },
);
process.exit(result.status ?? 1);
