// The system tools some tests need, which npm cannot install: which are missing, for which test
// files, and the one apt-get line that brings them. run-tests.mjs checks them before any test
// runs (so a missing tool is named up front, not found after minutes of tests as a raw
// "tmux: not found"); `npm run setup:test` installs them (Debian/Ubuntu, as root) or says how.
import { accessSync, constants } from 'node:fs';
import { delimiter, join } from 'node:path';
import { spawnSync } from 'node:child_process';

/** command → the Debian package that has it, and the test files (by name) that run it. */
export const TEST_TOOLS = [
  { command: process.env['CHROMIUM_PATH'] ?? '/usr/bin/chromium', package: 'chromium', files: ['e2e-browser'], why: 'the browser sign-in test' },
  { command: 'tmux', package: 'tmux', files: ['cli-commands'], why: 'the CLI in a real terminal' },
  { command: 'dbus-run-session', package: 'dbus', files: ['storage-keyring', 'codex-0171-keyring'], why: 'a private D-Bus session for the keyring tests' },
  { command: 'dbus-send', package: 'dbus', files: ['storage-keyring', 'codex-0171-keyring'], why: 'talking to that D-Bus' },
  { command: 'gnome-keyring-daemon', package: 'gnome-keyring', files: ['storage-keyring', 'codex-0171-keyring'], why: 'a real Secret Service' },
  { command: 'secret-tool', package: 'libsecret-tools', files: ['storage-keyring', 'codex-0171-keyring'], why: 'looking at keyring entries from outside' },
  { command: 'unshare', package: 'util-linux', files: ['codex-0171-restrictions', 'codex-0171-authorize'], why: 'a private /etc/codex (user and mount namespace) for the admin config layers' },
];

const isExecutable = (path) => {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
};

/** A command name on PATH, or an absolute path. */
export const found = (command) =>
  command.includes('/') ? isExecutable(command) : (process.env['PATH'] ?? '').split(delimiter).some((dir) => dir && isExecutable(join(dir, command)));

/** The tools that the given test files (all when none) need and that are not there. */
export function missingTools(files) {
  return TEST_TOOLS.filter((tool) => (!files || tool.files.some((name) => files.some((file) => file.includes(name)))) && !found(tool.command));
}

export function describeMissing(missing) {
  const packages = [...new Set(missing.map((tool) => tool.package))];
  return [
    'These system tools, which some tests need, are missing:',
    ...missing.map((tool) => `  ${tool.command} (Debian package ${tool.package}): ${tool.why}; needed by ${tool.files.map((f) => `${f}.test`).join(', ')}`),
    `Install them with:  apt-get install -y ${packages.join(' ')}    (or: npm run setup:test, as root)`,
  ].join('\n');
}

// `node scripts/test-tools.mjs [--install]`: check (exit 1 when something is missing), or install.
if (import.meta.url === `file://${process.argv[1]}`) {
  let missing = missingTools();
  if (missing.length > 0 && process.argv.includes('--install')) {
    const packages = [...new Set(missing.map((tool) => tool.package))];
    const apt = found('apt-get') && process.getuid?.() === 0;
    if (!apt) {
      console.error(`${describeMissing(missing)}\n(setup:test installs them itself only as root on a system with apt-get)`);
      process.exit(1);
    }
    console.error(`setup:test: installing ${packages.join(' ')}`);
    const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
    for (const args of [['update', '-qq'], ['install', '-y', '-qq', ...packages]]) {
      const { status } = spawnSync('apt-get', args, { stdio: ['ignore', 'ignore', 'inherit'], env });
      if (status !== 0) process.exit(status ?? 1);
    }
    missing = missingTools();
  }
  if (missing.length > 0) {
    console.error(describeMissing(missing));
    process.exit(1);
  }
  console.error(`setup:test: every system tool the tests need is there (${TEST_TOOLS.map((tool) => tool.command).join(', ')})`);
}
