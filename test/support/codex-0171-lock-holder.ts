/**
 * A separate process that holds Codex's auth locks on a CODEX_HOME until told to let go, for the
 * lock tests against Codex 0.171. argv: CODEX_HOME, then what to hold:
 *  - `both`: `auth.lock` and then `auth.json.lock`, through our own withAuthLock (the code every
 *    writer of this server uses), as any writer holds them for a read-modify-write;
 *  - `commit`: only `auth.json.lock` (flock through our flock.ts), so a writer that takes the
 *    outer `auth.lock` gets it and then waits inside it for the commit lock.
 * Prints `locked` once held; releases when a line (or EOF) arrives on stdin, prints `released`
 * and exits.
 */
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { ensureCodexHome } from '../../src/auth/store/auth-file.js';
import { COMMIT_LOCK_NAME, withAuthLock } from '../../src/auth/store/locks.js';
import { openLockFile } from '../../src/auth/store/flock.js';

const [home, what = 'both'] = process.argv.slice(2);
if (!home) throw new Error('usage: codex-0171-lock-holder.js CODEX_HOME [both|commit]');

const released = new Promise<void>((resolve) => {
  const lines = createInterface({ input: process.stdin });
  lines.once('line', () => resolve());
  lines.once('close', () => resolve());
});

if (what === 'both') {
  await withAuthLock(home, async () => {
    process.stdout.write('locked\n');
    await released;
  }, { maxWaitMs: 60_000 });
} else {
  await ensureCodexHome(home);
  const file = await openLockFile(join(home, COMMIT_LOCK_NAME), 0o600);
  if (!file.tryLock()) throw new Error(`${COMMIT_LOCK_NAME} is already held`);
  process.stdout.write('locked\n');
  await released;
  file.close();
}
process.stdout.write('released\n');
process.exit(0);
