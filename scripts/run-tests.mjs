// Runs every compiled test file (dist/test/**/*.test.js) with Node's built-in test runner, in our
// order (run-files.mjs: `node --test` would sort them by name).
//
// Before any test runs, the system tools the chosen files need (chromium, tmux, D-Bus, a Secret
// Service) are checked, and a missing one is named with the line that installs it.
//
// Files run TEST_CONCURRENCY at a time (default 5; on a 2-core machine 3 left a third of the CPU
// idle, and 4 to 7 take the same time, the CPU being busy throughout): much of the suite waits —
// on poll intervals, timeouts, terminals, child processes — so more files than cores keep the
// machine busy. The slowest files start
// first, so none of them is left running alone at the end.
//
// Files that need the fixed callback ports 1455/1457 (Codex 0.171 cannot be told to use
// another) run one at a time, so no two of them contend for the ports, beside the rest (whose
// logins all use port 0).
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { spawn } from 'node:child_process';
import { describeMissing, missingTools } from './test-tools.mjs';

const root = new URL('../dist/test/', import.meta.url).pathname;
const only = process.argv.slice(2); // optional substrings to pick files, e.g. `npm test -- config`
const FIXED_PORT_FILES = ['login-ports.test.js', 'codex-0171-login.test.js', 'codex-0171-authorize.test.js'];
/** The slowest files, slowest first (TEST_TIMINGS=1 on a 2-core machine); the rest follow by name. */
const SLOWEST_FIRST = [
  'codex-0171-restrictions.test.js',
  'accounts.test.js',
  'accounts-chaos.test.js',
  'accounts-durability.test.js',
  'codex-0171.test.js',
  'device-code-login.test.js',
  'package-install.test.js',
  'storage-keyring.test.js',
  'crash-atomic-write.test.js',
  'cli-commands.test.js',
  'differential.test.js',
  'replay-streams.test.js',
  'cli-messages.test.js',
  'server-basics.test.js',
  'refresh-server.test.js',
  'login-faults.test.js',
  'login-callback.test.js',
  'inspector-cli.test.js',
  'demo.test.js',
  'logout-revoke.test.js',
  'hardening-workers.test.js',
  'stdio-server.test.js',
  'login-logout-race.test.js',
  'account-api.test.js',
  'mcp-modern-sdk.test.js',
  'refresh-proxy.test.js',
  'login-flow.test.js',
  'readme-examples.test.js',
  'issuer.test.js',
  'codex-0171-fleet.test.js',
  'codex-0171-keyring.test.js',
  'e2e-browser.test.js',
  'api-key-login.test.js',
  'login-start-atomic.test.js',
  'hardening-home.test.js',
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

/**
 * Runs `list` through run-files.mjs (node:test's run(), which keeps our order). `output`: where its
 * report goes, or 'buffer' to hold it until `flush`.
 */
const runFiles = (list, concurrency, output) => {
  if (list.length === 0) return { done: Promise.resolve(0), flush: () => undefined, kill: () => undefined };
  const args = [new URL('./run-files.mjs', import.meta.url).pathname, String(concurrency), ...list.map((f) => join(root, f))];
  const child = spawn(process.execPath, args, { stdio: output === 'buffer' ? ['ignore', 'pipe', 'pipe'] : 'inherit' });
  const held = [];
  if (output === 'buffer') {
    child.stdout.on('data', (chunk) => held.push([process.stdout, chunk]));
    child.stderr.on('data', (chunk) => held.push([process.stderr, chunk]));
  }
  return {
    done: new Promise((resolve) => child.once('close', (code) => resolve(code ?? 1))),
    flush: () => held.splice(0).forEach(([to, chunk]) => to.write(chunk)),
    kill: () => child.kill('SIGKILL'),
  };
};

// The fixed-port files run beside the rest (nothing else binds those ports), one at a time; their
// report is printed after the rest's, so the two never interleave.
const main = runFiles(parallel, concurrency, 'inherit');
const ports = runFiles(fixedPorts, 1, 'buffer');
const RUN_LIMIT_MS = 20 * 60_000;
const limit = setTimeout(() => {
  console.error(`run-tests: stopped after ${RUN_LIMIT_MS / 60_000} minutes: a test file never finished (look for a ✖ above, or a file with no results)`);
  main.kill();
  ports.kill();
}, RUN_LIMIT_MS);
const [first, second] = await Promise.all([main.done, ports.done]);
ports.flush();
clearTimeout(limit);
process.exit(first || second);
