/** Token refresh as a client of the built server sees it. */
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { test } from 'node:test';
import { eventually } from './support/eventually.js';
import { startFakeIssuer, RotatingTokens, type FakeIssuerScript } from '../dev/fakes/fake-issuer.js';
import { spawnServer } from './support/spawn-server.js';
import { tempHome } from './support/temp-home.js';
import { chatgptAuthRecord } from '../dev/jwt.js';

const claims = { email: 'user@example.com', planType: 'plus', accountId: 'acct-1' };

async function setup(t: { after(fn: () => unknown): void }, script: FakeIssuerScript, options: { expiresInSecs?: number; args?: string[] } = {}) {
  const issuer = await startFakeIssuer(script);
  t.after(() => issuer.close());
  const home = await tempHome();
  t.after(() => home.remove());
  const record = await chatgptAuthRecord({ ...claims, exp: Math.floor(Date.now() / 1000) + (options.expiresInSecs ?? 3600) });
  await home.writeAuth(record);
  const client = spawnServer({ codexHome: home.path, args: ['-c', `auth_issuer=${issuer.url}`, ...(options.args ?? [])] });
  t.after(async () => {
    client.kill();
    await client.exited;
  });
  return { issuer, home, client, record };
}

test('a token entering the refresh window is refreshed in the background', async (t) => {
  const rotating = new RotatingTokens('rt-test-1', claims);
  const { client, home, record } = await setup(t, { onRefresh: (_n, body) => rotating.reply(body) }, { expiresInSecs: 120 });
  await eventually(async () => {
    const stored = JSON.parse(await readFile(home.authFile, 'utf8'));
    assert.equal(stored.tokens.refresh_token, 'rt-rotated-1');
  });
  const status = await eventually(async () => {
    const s = await client.call('getAuthStatus', { includeToken: true });
    assert.notEqual(s.authToken, record.tokens.access_token);
    return s;
  });
  assert.equal(status.authMethod, 'chatgpt');
  assert.equal(rotating.rotations, 1, 'refreshed once, not in a loop');
});

test('50 concurrent getAuthStatus {refreshToken:true} make exactly one refresh request', async (t) => {
  const rotating = new RotatingTokens('rt-test-1', claims);
  const { client, issuer } = await setup(t, { onRefresh: (_n, body) => rotating.reply(body) });
  const answers = await Promise.all(Array.from({ length: 50 }, () => client.call('getAuthStatus', { includeToken: true, refreshToken: true })));
  assert.equal(issuer.refreshCalls().length, 1);
  assert.equal(new Set(answers.map((a) => a.authToken)).size, 1);
  assert.equal(answers[0].authError, undefined);
});

test('a permanent failure: chatgpt kept, token withheld, authError set, no retry storm, auth.json kept', async (t) => {
  const { client, issuer, home } = await setup(t, { onRefresh: () => ({ status: 401, json: { error: { code: 'refresh_token_reused' } } }) });
  const before = await readFile(home.authFile, 'utf8');
  const first = await client.call('getAuthStatus', { includeToken: true, refreshToken: true });
  assert.equal(first.authMethod, 'chatgpt');
  assert.equal(first.authToken, undefined);
  assert.equal(first.authError.code, 'refresh_token_reused');
  assert.match(first.authError.message, /sign in again/);
  for (let i = 0; i < 5; i++) {
    const again = await client.call('getAuthStatus', { includeToken: true, refreshToken: true });
    assert.equal(again.authError.code, 'refresh_token_reused');
  }
  const plain = await client.call('getAuthStatus', { includeToken: true });
  assert.equal(plain.authToken, undefined);
  assert.equal(issuer.refreshCalls().length, 1, 'one request, however often it is asked');
  assert.equal(await readFile(home.authFile, 'utf8'), before);
});

test('transient failures are retried (Retry-After honoured) and then succeed', async (t) => {
  const rotating = new RotatingTokens('rt-test-1', claims);
  const { client, issuer } = await setup(t, {
    onRefresh: (n, body) => (n === 1 ? { status: 503, headers: { 'retry-after': '0' } } : n === 2 ? 'drop' : rotating.reply(body)),
  });
  const status = await client.call('getAuthStatus', { includeToken: true, refreshToken: true });
  assert.equal(status.authError, undefined);
  assert.equal(issuer.refreshCalls().length, 3);
  assert.equal(rotating.rotations, 1);
});

test('while a refresh hangs, every other request is answered; the waiting call ends at refresh_timeout_secs', async (t) => {
  let refreshArrived!: () => void;
  const arrived = new Promise<void>((resolve) => (refreshArrived = resolve));
  const onRefresh = () => {
    refreshArrived();
    return 'hang' as const;
  };
  const { client } = await setup(t, { onRefresh }, { args: ['-c', 'refresh_timeout_secs=3', '-c', 'login_callback_port=0'] });
  const waiting = client.request('getAuthStatus', { includeToken: true, refreshToken: true }, 'waiting', 30_000);
  await arrived; // the refresh request is at the issuer, which will never answer
  const methods = ['ping', 'getAuthStatus', 'ping', 'getAuthStatus', 'loginChatGpt', 'ping', 'getAuthStatus', 'ping', 'logoutChatGpt', 'ping'];
  const answers = await Promise.all(
    Array.from({ length: 1000 }, (_, i) => {
      // A logout waits up to 1 s for the auth lock the hanging refresh holds, then goes ahead, and
      // the requests after it wait for it (answers in request order): three show that, a hundred
      // would only make the test wait for the refresh to give up. The others are ping or status.
      const name = i >= 3 * methods.length && methods[i % methods.length] === 'logoutChatGpt' ? 'getAuthStatus' : methods[i % methods.length]!;
      // Logout without revocation: this fake issuer has no revoke endpoint (revocation has its own tests).
      const params = name === 'getAuthStatus' ? { includeToken: true } : name === 'logoutChatGpt' ? { revoke: false } : {};
      return client.request(name, params, `r${i}`, 30_000);
    }),
  );
  assert.equal(answers.length, 1000);
  for (const answer of answers) assert.ok('result' in answer || 'error' in answer);
  assert.equal(answers.filter((a) => a.error).length, 0, JSON.stringify(answers.find((a) => a.error)));
  const outcome = await waiting;
  assert.equal(outcome.result.authError.code, 'refresh_timeout');
});

test('a refresh that outlives refresh_timeout_secs is not abandoned: its result is stored and served', async (t) => {
  const rotating = new RotatingTokens('rt-test-1', claims);
  let release!: () => void;
  const released = new Promise<void>((resolve) => (release = resolve));
  const { client, home, record, issuer } = await setup(
    t,
    {
      onRefresh: async (_n, body) => {
        await released; // answers only after the caller has been told "refresh_timeout"
        return rotating.reply(body);
      },
    },
    { args: ['-c', 'refresh_timeout_secs=1'] },
  );
  const first = await client.call('getAuthStatus', { includeToken: true, refreshToken: true });
  assert.equal(first.authError.code, 'refresh_timeout');
  assert.equal(first.authToken, record.tokens.access_token, 'the still-valid token is served meanwhile');
  release();
  const stored = await eventually(async () => {
    const json = JSON.parse(await readFile(home.authFile, 'utf8'));
    assert.equal(json.tokens.refresh_token, 'rt-rotated-1');
    return json;
  });
  const after = await eventually(async () => {
    const status = await client.call('getAuthStatus', { includeToken: true });
    assert.equal(status.authToken, stored.tokens.access_token);
    return status;
  });
  assert.equal(after.authError, undefined);
  assert.equal(issuer.refreshCalls().length, 1, 'one request, never sent twice');
  assert.equal(rotating.reuseErrors, 0);
});

test('a logout during a refresh wins: the refresh result is not written back', async (t) => {
  const rotating = new RotatingTokens('rt-test-1', claims);
  let release!: () => void;
  const released = new Promise<void>((resolve) => (release = resolve));
  let arrived!: () => void;
  const atIssuer = new Promise<void>((resolve) => (arrived = resolve));
  const { client, home } = await setup(t, {
    onRefresh: async (_n, body) => {
      arrived();
      await released;
      return rotating.reply(body);
    },
  });
  const waiting = client.request('getAuthStatus', { includeToken: true, refreshToken: true }, 'waiting', 30_000);
  await atIssuer;
  await client.call('logoutChatGpt', { revoke: false });
  release();
  const outcome = await waiting;
  assert.equal(outcome.result.authMethod, undefined, 'signed out');
  assert.equal(outcome.result.authToken, undefined);
  assert.equal(rotating.rotations, 1, 'the request that was sent was let finish…');
  await assert.rejects(readFile(home.authFile, 'utf8'), { code: 'ENOENT' }, '…but nothing was written back after the logout');
  const status = await client.call('getAuthStatus', { includeToken: true });
  assert.equal(status.authMethod, undefined);
});

test('shutting down while a refresh request is out waits for its answer and stores it', async (t) => {
  const rotating = new RotatingTokens('rt-test-1', claims);
  const { client, home, issuer } = await setup(t, {
    onRefresh: async (_n, body) => {
      const reply = await rotating.reply(body);
      // Slow enough that stdin closes while the request is at the issuer.
      return typeof reply === 'string' ? reply : { ...reply, delayMs: 1_500 };
    },
  });
  void client.request('getAuthStatus', { includeToken: true, refreshToken: true }, 'waiting', 30_000).catch(() => undefined);
  await issuer.waitForCall((call) => call.path === '/oauth/token');
  const exit = await client.close(20_000);
  assert.deepEqual(exit, { code: 0, signal: null }, 'a clean exit, not the SIGKILL fallback');
  const stored = JSON.parse(await readFile(home.authFile, 'utf8'));
  assert.equal(stored.tokens.refresh_token, 'rt-rotated-1', 'the rotated refresh token was not lost');
});
