/**
 * Issue 11, item 6: a slow lock holder never costs a rotated token. Before issue 17 the lock was a
 * lock *folder* judged stale by its age: under a holder slower than that, the lock library's
 * compromise handler threw in the token thread and the refresh result was lost. Codex's flock
 * locks have no age: a slow holder is waited for (bounded), one that dies is released by the
 * kernel, and a refresh is only sent while the lock is held, so nothing can be lost mid-way.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { readFileSync, utimesSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { RotatingTokens, startFakeIssuer } from '../dev/fakes/fake-issuer.js';
import { withAuthLock } from '../src/auth/store/locks.js';
import { chatgptAuthRecord } from '../dev/jwt.js';
import { startServer } from './support/spawn-server.js';
import { tempHome } from './support/temp-home.js';

const LOCK_HOLDER = fileURLToPath(new URL('./support/codex-0171-lock-holder.js', import.meta.url));
const claims = { email: 'user@example.com', planType: 'plus', accountId: 'acct-1' };

/** Another process holding Codex's two locks on `home` until released or killed. */
async function holdLocks(t: { after(fn: () => unknown): void }, home: string) {
  const child = spawn(process.execPath, [LOCK_HOLDER, home, 'both'], { stdio: ['pipe', 'pipe', 'inherit'] });
  const exited = once(child, 'exit');
  t.after(async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    await exited;
  });
  const [line] = (await once(createInterface({ input: child.stdout }), 'line')) as [string];
  assert.equal(line, 'locked');
  return { release: () => child.stdin.end('release\n'), kill: () => child.kill('SIGKILL'), exited };
}

for (const ending of ['releases after a while', 'is killed while holding it'] as const) {
  test(`a refresh waits for a lock holder that ${ending}; then it is sent once and its rotated token stored`, async (t) => {
    const rotating = new RotatingTokens('rt-test-1', claims, 7200);
    const issuer = await startFakeIssuer({ onRefresh: (_n, body) => rotating.reply(body) });
    t.after(() => issuer.close());
    const home = await tempHome();
    t.after(() => home.remove());
    await home.writeAuth(await chatgptAuthRecord({ ...claims, exp: Math.floor(Date.now() / 1000) + 3600 }));
    const client = startServer(t, { codexHome: home.path, args: ['-c', `auth_issuer=${issuer.url}`] });
    assert.equal((await client.call('getAuthStatus', {})).authMethod, 'chatgpt');

    const holder = await holdLocks(t, home.path);
    const refreshing = client.call('getAuthStatus', { includeToken: true, refreshToken: true });
    // Meanwhile the server answers everything else, and sends nothing without the lock.
    for (let i = 0; i < 5; i++) assert.equal((await client.call('getAuthStatus', {})).authMethod, 'chatgpt');
    assert.equal(issuer.refreshCalls().length, 0, 'no refresh is sent while another holds the lock');
    if (ending === 'releases after a while') holder.release();
    else holder.kill();
    await holder.exited;

    const refreshed = await refreshing;
    assert.equal(refreshed.authError, undefined);
    assert.equal(issuer.refreshCalls().length, 1);
    assert.equal(JSON.parse(readFileSync(home.authFile, 'utf8')).tokens.refresh_token, 'rt-rotated-1');
    assert.equal((await client.call('getAuthStatus', { includeToken: true })).authToken, refreshed.authToken);
  });
}

test('a lock that is not let go in time fails with a message naming the lock file (no date can make a lock look held)', async (t) => {
  const home = await tempHome();
  t.after(() => home.remove());
  const holder = await holdLocks(t, home.path);
  await assert.rejects(withAuthLock(home.path, async () => 'ran', { maxWaitMs: 200 }), (error: Error) => {
    assert.equal(error.message, `${join(home.path, 'auth.lock')} is held by another process`);
    return true;
  });
  holder.release();
  await holder.exited;
  // A lock file dated far in the future means nothing to flock.
  const future = new Date(Date.now() + 365 * 86_400_000);
  utimesSync(join(home.path, 'auth.lock'), future, future);
  utimesSync(join(home.path, 'auth.json.lock'), future, future);
  assert.equal(await withAuthLock(home.path, async () => 'ran', { maxWaitMs: 200 }), 'ran');
});
