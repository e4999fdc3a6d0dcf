/**
 * A ChatGPT sign-in that is finishing (its tokens obtained, waiting for Codex's lock to write
 * them) while a logout runs: the outcome must be true. Either the logout cancels the sign-in
 * before its write (completion `cancelled`, nothing stored), or the write wins and the sign-in
 * reports success with the file written (a logout in another process cannot cancel it, so it
 * ran first and removed nothing). Never `persist_failed` for tokens that could be stored.
 *
 * "Finishing" is made deterministic with a separate process holding Codex's locks, so the
 * sign-in sits in its lock wait while the logout comes; the last test lets the two race freely.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { startFakeIssuer, type FakeIssuer } from '../dev/fakes/fake-issuer.js';
import { testJwt } from '../dev/jwt.js';
import type { RpcClient } from '../dev/rpc-client.js';
import { eventually } from './support/eventually.js';
import { loginServer } from './support/login-servers.js';
import { tempHome, type TempHome } from './support/temp-home.js';

type T = { after(fn: () => unknown): void };
const COMPLETE = 'codex/event/login_chat_gpt_complete';
const LOCK_HOLDER = fileURLToPath(new URL('./support/codex-0171-lock-holder.js', import.meta.url));
const ACCOUNT = { email: 'race@example.com', planType: 'plus', accountId: 'acct-race' };

async function tokenEndpoint(t: T): Promise<FakeIssuer> {
  const issuer = await startFakeIssuer({
    onOther: async (call) => {
      if (call.path === '/oauth/revoke') return { status: 200, json: {} };
      if (call.path !== '/oauth/token') return { status: 404 };
      if (call.body['grant_type'] === 'authorization_code') {
        return { status: 200, json: { id_token: await testJwt(ACCOUNT), access_token: await testJwt(ACCOUNT), refresh_token: 'rt-race' } };
      }
      return { status: 200, json: { access_token: 'sk-race-exchanged' } };
    },
  });
  t.after(() => issuer.close());
  return issuer;
}

/** Another process holding auth.lock and auth.json.lock until `release()`. */
async function holdCodexLocks(t: T, home: TempHome): Promise<{ release(): Promise<void> }> {
  const child = spawn(process.execPath, [LOCK_HOLDER, home.path, 'both'], { stdio: ['pipe', 'pipe', 'inherit'] });
  const exited = once(child, 'exit');
  t.after(async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    await exited;
  });
  const lines = createInterface({ input: child.stdout })[Symbol.asyncIterator]();
  assert.equal((await lines.next()).value, 'locked');
  return {
    async release() {
      child.stdin.end('release\n');
      assert.equal((await lines.next()).value, 'released');
      await exited;
    },
  };
}

/** Starts a sign-in and plays the browser's callback; resolves once its tokens are obtained (the worker says so at debug level). */
async function signInUpToTheWrite(client: RpcClient, code: string) {
  const { loginId, authUrl } = await client.call('loginChatGpt');
  const url = new URL(authUrl);
  const port = Number(new URL(url.searchParams.get('redirect_uri')!).port);
  const exchangesBefore = client.stderr.split('API-key exchange done').length;
  const browser = fetch(`http://localhost:${port}/auth/callback?code=${code}&state=${url.searchParams.get('state')}`, { redirect: 'manual' })
    .then((r) => r.status, () => 'closed' as const);
  await eventually(() => assert.ok(client.stderr.split('API-key exchange done').length > exchangesBefore, 'the tokens were obtained'));
  return { loginId, browser };
}

test('logoutChatGpt while the sign-in waits to write its tokens: the sign-in is cancelled, nothing is stored', { timeout: 30_000 }, async (t) => {
  const issuer = await tokenEndpoint(t);
  const home = await tempHome();
  const { client } = await loginServer(t, issuer.url, { home });
  const locks = await holdCodexLocks(t, home);
  const { loginId, browser } = await signInUpToTheWrite(client, 'c-same');

  const logout = await client.request('logoutChatGpt', undefined, 'logout', 20_000);
  assert.ok(logout.result, JSON.stringify(logout.error));
  const complete = await client.waitForNotification(COMPLETE, (p) => p.loginId === loginId);
  assert.deepEqual(complete.params, { loginId, success: false, error: 'Login server error: Login was not completed', errorCode: 'cancelled' });
  await locks.release();
  assert.notEqual(await browser, 500, 'the browser is not told the write failed');
  await client.request('ping', undefined, 'end');
  assert.equal(existsSync(home.authFile), false, 'a cancelled sign-in stores nothing, even once the lock is free');
  assert.equal((await client.call('getAuthStatus', {})).authMethod, undefined, 'signed out');
  assert.equal(client.notifications(COMPLETE).length, 1);
});

test("another process's logout while the sign-in waits to write: the write wins, success, the file is there", { timeout: 30_000 }, async (t) => {
  const issuer = await tokenEndpoint(t);
  const home = await tempHome();
  const { client } = await loginServer(t, issuer.url, { home });
  const { client: other } = await loginServer(t, issuer.url, { home });
  const locks = await holdCodexLocks(t, home);
  const { loginId, browser } = await signInUpToTheWrite(client, 'c-other');

  // The other server cannot cancel our sign-in; its logout waits for the lock, then goes ahead.
  const logout = await other.request('logoutChatGpt', undefined, 'logout', 20_000);
  assert.ok(logout.result, JSON.stringify(logout.error));
  await client.request('ping', undefined, 'before-release');
  assert.equal(client.notifications(COMPLETE).length, 0, 'the sign-in is still waiting for the lock');
  await locks.release();
  const complete = await client.waitForNotification(COMPLETE, (p) => p.loginId === loginId);
  assert.deepEqual(complete.params, { loginId, success: true });
  assert.equal(await browser, 302);
  assert.equal(existsSync(home.authFile), true, 'the tokens were written');
  assert.equal((await client.call('getAuthStatus', {})).authMethod, 'chatgpt');
});

test('sign-ins and logouts racing freely: every ending is true (success with the file written, or cancelled), never persist_failed', { timeout: 90_000 }, async (t) => {
  const issuer = await tokenEndpoint(t);
  const home = await tempHome();
  const { client } = await loginServer(t, issuer.url, { home });
  const { client: other } = await loginServer(t, issuer.url, { home });
  const endings = new Map<string, number>();
  for (let round = 0; round < 16; round++) {
    const { loginId, authUrl } = await client.call('loginChatGpt');
    const url = new URL(authUrl);
    const port = Number(new URL(url.searchParams.get('redirect_uri')!).port);
    const ended = client.waitForNotification(COMPLETE, (p) => p.loginId === loginId, 20_000);
    const browser = fetch(`http://localhost:${port}/auth/callback?code=c${round}&state=${url.searchParams.get('state')}`, { redirect: 'manual' }).then((r) => r.status, () => 'closed');
    // The logout lands anywhere from before the code exchange to after the write.
    await new Promise((resolve) => setTimeout(resolve, round % 8));
    const logoutBy = round % 2 ? other : client;
    const [logout, complete] = await Promise.all([logoutBy.request('logoutChatGpt', undefined, `logout-${round}`, 20_000), ended, browser]);
    assert.ok(logout.result, JSON.stringify(logout.error));
    const { success, errorCode } = complete.params;
    assert.ok(success === true || errorCode === 'cancelled', `round ${round}: ${JSON.stringify(complete.params)}`);
    if (errorCode === 'cancelled') assert.equal(logoutBy, client, 'only our own logout cancels our sign-in');
    endings.set(success ? 'success' : errorCode, (endings.get(success ? 'success' : errorCode) ?? 0) + 1);
    // Whatever happened, the last word on the file is the later of the two: a success followed
    // by our own logout leaves nothing; a cancelled sign-in never writes.
    if (!success) assert.equal(existsSync(home.authFile), false, `round ${round}: a cancelled sign-in wrote the file`);
  }
  assert.ok(!endings.has('persist_failed'), JSON.stringify([...endings]));
});
