/**
 * auth.json as Codex 0.171 writes and locks it: flock on `auth.lock` then `auth.json.lock` (empty
 * regular files nobody removes), a temp file opened exclusive and no-follow, 0600, renamed into
 * place. Covers what broke beside 0.171 (its lock files, an old lock folder of ours) and the write.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { lstat, mkdir, readFile, symlink, utimes, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { apiKeyRecord } from '../src/auth/store/record.js';
import { writeAuthFile } from '../src/auth/store/auth-file.js';
import { withAuthLock } from '../src/auth/store/locks.js';
import { openLockFile } from '../src/auth/store/flock.js';
import { startServer } from './support/spawn-server.js';
import { filesBesideLocks, tempHome } from './support/temp-home.js';

test('two opens of one lock file exclude each other, as two processes would; closing releases', async (t) => {
  const home = await tempHome();
  t.after(() => home.remove());
  const path = join(home.path, 'auth.lock');
  const [a, b] = [await openLockFile(path, 0o666), await openLockFile(path, 0o666)];
  assert.equal(a.tryLock(), true);
  assert.equal(b.tryLock(), false, 'held by the other open file description');
  a.close();
  assert.equal(b.tryLock(), true);
  b.close();
});

test('the lock is a real flock(2): util-linux flock cannot take it while we hold it, and can after', async (t) => {
  const home = await tempHome();
  t.after(() => home.remove());
  const tryFlock = async (name: string) => {
    const child = spawn('flock', ['--nonblock', join(home.path, name), 'true'], { stdio: 'ignore' });
    const [code] = await once(child, 'exit');
    return code as number;
  };
  await withAuthLock(home.path, async () => {
    assert.equal(await tryFlock('auth.lock'), 1, 'auth.lock is held');
    assert.equal(await tryFlock('auth.json.lock'), 1, 'auth.json.lock is held');
  });
  assert.equal(await tryFlock('auth.lock'), 0);
  assert.equal(await tryFlock('auth.json.lock'), 0);
});

test("sign-in works where Codex 0.171 left its lock files (an hour old), and leaves them as they were", async (t) => {
  const home = await tempHome();
  t.after(() => home.remove());
  const anHourAgo = new Date(Date.now() - 3600_000);
  for (const name of ['auth.lock', 'auth.json.lock']) {
    await writeFile(join(home.path, name), '', { mode: 0o600 });
    await utimes(join(home.path, name), anHourAgo, anHourAgo);
  }
  const client = startServer(t, { codexHome: home.path });
  assert.deepEqual(await client.call('loginApiKey', { apiKey: 'sk-beside-codex' }), {});
  assert.deepEqual(await filesBesideLocks(home.path), ['auth.json']);
  assert.deepEqual(await client.call('logoutChatGpt', { revoke: false }), { revoked: false });
  assert.deepEqual(await filesBesideLocks(home.path), [], 'both lock files still there, still empty regular files');
});

test('an auth.json.lock folder left by an earlier version of this server is removed once, and sign-in works', async (t) => {
  const home = await tempHome();
  t.after(() => home.remove());
  await mkdir(join(home.path, 'auth.json.lock'));
  const client = startServer(t, { codexHome: home.path });
  assert.deepEqual(await client.call('loginApiKey', { apiKey: 'sk-after-upgrade' }), {});
  assert.equal((await lstat(join(home.path, 'auth.json.lock'))).isFile(), true);
  assert.equal(JSON.parse(await readFile(home.authFile, 'utf8')).OPENAI_API_KEY, 'sk-after-upgrade');
});

test('the write: 0.171 bytes (two-space JSON, no newline), mode 0600 whatever the umask, no temp file left', async (t) => {
  const home = await tempHome();
  t.after(() => home.remove());
  const umask = process.umask(0);
  try {
    await writeAuthFile(home.path, apiKeyRecord('sk-x'));
  } finally {
    process.umask(umask);
  }
  assert.equal(await readFile(home.authFile, 'utf8'), '{\n  "auth_mode": "apikey",\n  "OPENAI_API_KEY": "sk-x"\n}');
  assert.equal((await lstat(home.authFile)).mode & 0o777, 0o600);
  assert.deepEqual(await filesBesideLocks(home.path), ['auth.json']);
});

// Issue 11 decided what a symlink gets: the person's own link (dotfiles) is kept and its target
// replaced, as Codex 0.171 does; a link of another user's is refused (test/hardening-home.test.ts).
test('a symlinked auth.json of our own is kept: its target is replaced atomically, mode 0600', async (t) => {
  const home = await tempHome();
  t.after(() => home.remove());
  const elsewhere = join(home.path, 'elsewhere.json');
  await writeFile(elsewhere, 'before', { mode: 0o644 });
  await symlink(elsewhere, home.authFile);
  await writeAuthFile(home.path, apiKeyRecord('sk-y'));
  assert.equal((await lstat(home.authFile)).isSymbolicLink(), true);
  assert.equal(JSON.parse(await readFile(elsewhere, 'utf8')).OPENAI_API_KEY, 'sk-y');
  assert.equal((await lstat(elsewhere)).mode & 0o777, 0o600);
});
