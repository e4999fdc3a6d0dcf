// Runs every compiled test file (dist/test/**/*.test.js) with Node's built-in test runner.
// Node 20 takes file paths, Node 22+ takes globs; listing the files ourselves works on both.
//
// Before any test runs, the system tools the chosen files need (chromium, tmux, D-Bus, a Secret
// Service) are checked, and a missing one is named with the line that installs it.
//
// Files run TEST_CONCURRENCY at a time (default 5, measured best on a 2-core machine: 3 left a
// third of the CPU idle): much of the suite waits — on poll intervals, timeouts, terminals,
// child processes — so more files than cores keep the machine busy. The slowest files start
// first, so none of them is left running alone at the end.
//
// Files that need the fixed callback ports 1455/1457 (Codex 0.171 cannot be told to use
// another) run after the rest, one at a time, so no two of them contend for the ports.
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { describeMissing, missingTools } from './test-tools.mjs';

const root = new URL('../dist/test/', import.meta.url).pathname;
const only = process.argv.slice(2); // optional substrings to pick files, e.g. `npm test -- config`
const FIXED_PORT_FILES = ['login-ports.test.js', 'codex-0171-login.test.js'];
/** The slowest files, slowest first (measured on a 2-core machine); the rest follow by name. */
const SLOWEST_FIRST = [
  'codex-0171.test.js',
  'accounts.test.js',
  'package-install.test.js',
  'crash-atomic-write.test.js',
  'device-code-login.test.js',
  'cli-commands.test.js',
  'differential.test.js',
  'storage-keyring.test.js',
  'cli-messages.test.js',
  'server-basics.test.js',
  'refresh-server.test.js',
  'logout-revoke.test.js',
  'stdio-server.test.js',
  'hardening-workers.test.js',
  'login-callback.test.js',
  'login-logout-race.test.js',
  'login-flow.test.js',
  'mcp-modern-sdk.test.js',
  'package-contents.test.js',
  'account-api.test.js',
  'codex-0171-keyring.test.js',
  'login-faults.test.js',
  'refresh-proxy.test.js',
  'readme-examples.test.js',
  'refresh-multiprocess.test.js',
  'replay-streams.test.js',
];
const concurrency = Number(process.env['TEST_CONCURRENCY'] ?? 5);
if (!Number.isInteger(concurrency) || concurrency < 1) {
  console.error(`run-tests: TEST_CONCURRENCY must be a whole number of at least 1, not ${JSON.stringify(process.env['TEST_CONCURRENCY'])}`);
  process.exit(2);
}

const rank = (file) => (SLOWEST_FIRST.includes(file) ? SLOWEST_FIRST.indexOf(file) : SLOWEST_FIRST.length);
const files = readdirSync(root, { recursive: true, withFileTypes: false })
  .map(String)
  .filter((f) => f.endsWith('.test.js'))
  .filter((f) => only.length === 0 || only.some((o) => f.includes(o)))
  .sort((a, b) => rank(a) - rank(b) || a.localeCompare(b));

if (files.length === 0) {
  console.error('run-tests: no test files found under dist/test');
  process.exit(1);
}
const missing = missingTools(files);
if (missing.length > 0) {
  console.error(`run-tests: not starting: ${describeMissing(missing)}`);
  process.exit(1);
}
const fixedPorts = files.filter((f) => FIXED_PORT_FILES.includes(f));
const parallel = files.filter((f) => !FIXED_PORT_FILES.includes(f));
// A hung test fails after 4 minutes instead of holding the suite for ever. A file whose tests are
// done but whose process cannot exit (a failed clean-up left a child running) is caught by the
// whole run's limit. (Not --test-force-exit: it drops the last reporters' output.)
const runnerFlags = ['--test', '--test-timeout=240000', '--test-reporter=spec', '--test-reporter-destination=stdout'];
if (process.env['TEST_TIMINGS']) {
  runnerFlags.push(`--test-reporter=${new URL('./file-times-reporter.mjs', import.meta.url).pathname}`, '--test-reporter-destination=stderr');
}
const RUN_LIMIT_MS = 20 * 60_000;
const run = (list, concurrency) => {
  if (list.length === 0) return 0;
  const args = [...runnerFlags, `--test-concurrency=${concurrency}`, ...list.map((f) => join(root, f))];
  const { status, error } = spawnSync(process.execPath, args, { stdio: 'inherit', timeout: RUN_LIMIT_MS, killSignal: 'SIGKILL' });
  if (error?.code === 'ETIMEDOUT') console.error(`run-tests: stopped after ${RUN_LIMIT_MS / 60_000} minutes: a test file never finished (look for a ✖ above, or a file with no results)`);
  return status ?? 1;
};
const first = run(parallel, concurrency);
const second = run(fixedPorts, 1);
process.exit(first || second);
