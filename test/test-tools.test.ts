/**
 * The system tools the suite needs are named before any test runs: `npm test` (run-tests.mjs)
 * refuses to start without them, saying which are missing, for which files, and how to install them.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtemp, rm, symlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { projectRoot } from './support/paths.js';

const tools = (await import(join(projectRoot, 'scripts/test-tools.mjs'))) as {
  TEST_TOOLS: { command: string; package: string; files: string[] }[];
  missingTools(files?: string[]): { command: string; package: string }[];
  describeMissing(missing: unknown[]): string;
};

test('the list covers every tool the tests run, with its Debian package', () => {
  const commands = tools.TEST_TOOLS.map((tool) => tool.command.split('/').pop());
  assert.deepEqual(commands, ['chromium', 'tmux', 'dbus-run-session', 'dbus-send', 'gnome-keyring-daemon', 'secret-tool', 'unshare']);
  assert.deepEqual([...new Set(tools.TEST_TOOLS.map((tool) => tool.package))], ['chromium', 'tmux', 'dbus', 'gnome-keyring', 'libsecret-tools', 'util-linux']);
  assert.deepEqual(tools.missingTools(), [], 'this machine has them all (.ci/run installs them)');
});

test('with tools missing, the runner stops before any test and names them; files that need none still run', async (t) => {
  // A PATH with node on it and nothing else.
  const bin = await mkdtemp(join(tmpdir(), 'codex-auth-mcp-path-'));
  t.after(() => rm(bin, { recursive: true, force: true }));
  await symlink(process.execPath, join(bin, 'node'));
  // NODE_TEST_CONTEXT would make the inner runner report to this one instead of printing.
  const { NODE_TEST_CONTEXT: _outer, ...outside } = process.env;
  const env = { ...outside, PATH: bin, CHROMIUM_PATH: join(bin, 'no-chromium') };
  const runner = join(projectRoot, 'scripts/run-tests.mjs');

  const refused = spawnSync(process.execPath, [runner, 'cli-commands', 'storage-keyring', 'e2e-browser'], { env, encoding: 'utf8' });
  assert.equal(refused.status, 1);
  assert.equal(refused.stdout, '', 'no test ran');
  assert.match(refused.stderr, /^run-tests: not starting: These system tools, which some tests need, are missing:/);
  for (const name of ['tmux', 'dbus-run-session', 'dbus-send', 'gnome-keyring-daemon', 'secret-tool', 'no-chromium']) assert.match(refused.stderr, new RegExp(`  \\S*${name} \\(Debian package`), name);
  assert.match(refused.stderr, /apt-get install -y chromium tmux dbus gnome-keyring libsecret-tools/);
  assert.match(refused.stderr, /npm run setup:test/);

  const onlyTmux = spawnSync(process.execPath, [runner, 'cli-commands'], { env, encoding: 'utf8' });
  assert.equal(onlyTmux.status, 1);
  assert.match(onlyTmux.stderr, /tmux \(Debian package tmux\): the CLI in a real terminal; needed by cli-commands\.test/);
  assert.doesNotMatch(onlyTmux.stderr, /gnome-keyring|chromium/, 'only what the chosen files need');

  const unaffected = spawnSync(process.execPath, [runner, 'overrides'], { env, encoding: 'utf8' });
  assert.equal(unaffected.status, 0, unaffected.stderr);
  assert.match(unaffected.stdout, /ℹ pass [1-9]/);
});
