// Runs every compiled test file (dist/test/**/*.test.js) with Node's built-in test runner.
// Node 20 takes file paths, Node 22+ takes globs; listing the files ourselves works on both.
//
// Files that need the fixed callback ports 1455/1457 (Codex 0.171 cannot be told to use
// another) run after the rest, one at a time, so no two of them contend for the ports.
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';

const root = new URL('../dist/test/', import.meta.url).pathname;
const only = process.argv.slice(2); // optional substrings to pick files, e.g. `npm test -- config`
const FIXED_PORT_FILES = ['login-ports.test.js', 'codex-0171-login.test.js'];
const files = readdirSync(root, { recursive: true, withFileTypes: false })
  .map(String)
  .filter((f) => f.endsWith('.test.js'))
  .filter((f) => only.length === 0 || only.some((o) => f.includes(o)))
  .sort();

if (files.length === 0) {
  console.error('run-tests: no test files found under dist/test');
  process.exit(1);
}
const fixedPorts = files.filter((f) => FIXED_PORT_FILES.includes(f));
const parallel = files.filter((f) => !FIXED_PORT_FILES.includes(f));
const run = (list, concurrency) =>
  list.length === 0
    ? 0
    : (spawnSync(process.execPath, ['--test', '--test-reporter=spec', `--test-concurrency=${concurrency}`, ...list.map((f) => join(root, f))], { stdio: 'inherit' }).status ?? 1);
const first = run(parallel, 2);
const second = run(fixedPorts, 1);
process.exit(first || second);
