/**
 * The browser sign-in against a scripted token endpoint (dev/fakes/fake-issuer.ts), for what
 * a real issuer will not do on demand: fail, hang, refuse the API-key exchange. The browser's
 * part is a plain GET of the callback URL with the right state.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdir, readFile, readdir, stat, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { test } from 'node:test';
import { startFakeIssuer, type FakeCall, type FakeIssuerScript, type Reply } from '../dev/fakes/fake-issuer.js';
import { eventually } from './support/eventually.js';
import { loginServer } from './support/login-servers.js';
import type { RpcClient } from '../dev/rpc-client.js';
import { filesBesideLocks, tempHome, type TempHome } from './support/temp-home.js';
import { testJwt } from '../dev/jwt.js';

type T = { after(fn: () => unknown): void };

const NEW_ACCOUNT = { email: 'new@example.com', planType: 'plus', accountId: 'acct-new' };

/** A token endpoint: the code exchange gets `onCode`, the API-key exchange gets `onKey`. */
async function issuerWith(t: T, script: { onCode?: (call: FakeCall) => Reply | Promise<Reply>; onKey?: (call: FakeCall) => Reply | Promise<Reply> }) {
  const handlers: FakeIssuerScript = {
    onOther: (call) => {
      if (call.path !== '/oauth/token') return { status: 404 };
      if (call.body['grant_type'] === 'authorization_code') return (script.onCode ?? issueTokens)(call);
      return (script.onKey ?? (() => ({ status: 200, json: { access_token: 'sk-fake-exchanged' } })))(call);
    },
  };
  const issuer = await startFakeIssuer(handlers);
  t.after(() => issuer.close());
  return issuer;
}

async function issueTokens(): Promise<Reply> {
  return {
    status: 200,
    json: { id_token: await testJwt(NEW_ACCOUNT), access_token: await testJwt(NEW_ACCOUNT), refresh_token: 'rt-fake-new' },
  };
}

function serverFor(t: T, issuerUrl: string, home?: TempHome, extraArgs: string[] = []) {
  return loginServer(t, issuerUrl, { ...(home && { home }), args: extraArgs });
}

async function startLogin(client: RpcClient) {
  const { loginId, authUrl } = await client.call('loginChatGpt');
  const url = new URL(authUrl);
  const port = Number(new URL(url.searchParams.get('redirect_uri')!).port);
  const state = url.searchParams.get('state')!;
  const callbackUrl = (code: string) => `http://localhost:${port}/auth/callback?code=${code}&state=${state}`;
  return { loginId, authUrl, url, port, state, callbackUrl };
}

function portIsFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const probe = createServer();
    probe.once('error', () => resolve(false));
    probe.listen({ port, host: '127.0.0.1', exclusive: true }, () => probe.close(() => resolve(true)));
  });
}
const portFreed = (port: number) => eventually(async () => assert.equal(await portIsFree(port), true, `port ${port} is still bound`));

function assertNotLogged(client: RpcClient, secrets: Record<string, string | null | undefined>) {
  for (const [name, value] of Object.entries(secrets)) {
    if (value) assert.equal(client.stderr.includes(value), false, `the ${name} was logged`);
  }
  assert.match(client.stderr, /"level":20/, 'debug logging was on');
}

test('the code and API-key exchanges send exactly the forms codex sends; the verifier matches the challenge and is never logged', async (t) => {
  const issuer = await issuerWith(t, {});
  const { client, home } = await serverFor(t, issuer.url);
  const login = await startLogin(client);
  const redirect = await fetch(login.callbackUrl('the-auth-code'), { redirect: 'manual' });
  assert.equal(redirect.status, 302);
  assert.deepEqual((await client.waitForNotification('codex/event/login_chat_gpt_complete')).params, { loginId: login.loginId, success: true });

  const [code, key, ...more] = issuer.calls;
  assert.equal(more.length, 0, 'two calls to the issuer, no more');
  assert.equal(code!.method, 'POST');
  assert.equal(code!.contentType, 'application/x-www-form-urlencoded');
  const verifier = code!.body['code_verifier']!;
  assert.deepEqual(code!.body, {
    grant_type: 'authorization_code',
    code: 'the-auth-code',
    redirect_uri: `http://127.0.0.1:${login.port}/auth/callback`,
    client_id: 'app_EMoamEEZ73f0CkXaXp7hrann',
    code_verifier: verifier,
  });
  assert.match(verifier, /^[A-Za-z0-9_-]{86}$/, '64 random bytes, base64url');
  assert.equal(createHash('sha256').update(verifier).digest('base64url'), login.url.searchParams.get('code_challenge'));

  const stored = JSON.parse(await readFile(home.authFile, 'utf8'));
  assert.deepEqual(key!.body, {
    grant_type: 'urn:ietf:params:oauth:grant-type:token-exchange',
    client_id: 'app_EMoamEEZ73f0CkXaXp7hrann',
    requested_token: 'openai-api-key',
    subject_token: stored.tokens.id_token,
    subject_token_type: 'urn:ietf:params:oauth:token-type:id_token',
  });
  assert.equal(stored.OPENAI_API_KEY, 'sk-fake-exchanged');
  assert.equal(stored.tokens.account_id, 'acct-new');
  assertNotLogged(client, {
    verifier, code: 'the-auth-code', state: login.state, idToken: stored.tokens.id_token,
    accessToken: stored.tokens.access_token, refreshToken: stored.tokens.refresh_token, apiKey: stored.OPENAI_API_KEY,
  });
});

test('a refused API-key exchange is not a failure, and nothing of the previous account is kept', async (t) => {
  const issuer = await issuerWith(t, { onKey: () => ({ status: 401, json: { error: 'unauthorized_client' } }) });
  const home = await tempHome();
  await home.writeAuth({
    OPENAI_API_KEY: 'sk-previous-account',
    tokens: { id_token: await testJwt({ accountId: 'acct-old' }), access_token: 'old', refresh_token: 'rt-old', account_id: 'acct-old' },
    last_refresh: '2020-01-01T00:00:00Z',
  });
  const { client } = await serverFor(t, issuer.url, home);
  const login = await startLogin(client);
  assert.equal((await fetch(login.callbackUrl('c1'), { redirect: 'manual' })).status, 302);
  assert.deepEqual((await client.waitForNotification('codex/event/login_chat_gpt_complete')).params, { loginId: login.loginId, success: true });
  assert.deepEqual((await client.waitForNotification('codex/event/auth_status_change')).params, { authMethod: 'chatgpt' });

  const stored = JSON.parse(await readFile(home.authFile, 'utf8'));
  assert.equal(stored.OPENAI_API_KEY, null, 'the old key is not kept when no new one was issued');
  assert.equal(stored.tokens.account_id, 'acct-new');
  assert.equal(stored.tokens.refresh_token, 'rt-fake-new');
  assert.notEqual(stored.last_refresh, '2020-01-01T00:00:00Z');
  assert.equal((await stat(home.authFile)).mode & 0o777, 0o600);
});

for (const [name, reply, expected] of [
  ['answers 500', { status: 500, json: { error: 'server_error' } }, /Token exchange failed: token endpoint returned status 500 \(server_error\)/],
  ['answers invalid_grant', { status: 400, json: { error: 'invalid_grant' } }, /status 400 \(invalid_grant\)/],
  ['drops the connection', 'drop', /Token exchange failed: token endpoint unreachable/],
  ['answers without a refresh_token', { status: 200, json: { id_token: 'x', access_token: 'y' } }, /lacks refresh_token/],
] as const) {
  test(`a token endpoint that ${name}: token_exchange_failed, nothing written, the port freed`, async (t) => {
    const issuer = await issuerWith(t, { onCode: () => reply });
    const { client, home } = await serverFor(t, issuer.url);
    const login = await startLogin(client);
    const page = await fetch(login.callbackUrl('c2'));
    assert.equal(page.status, 502);
    assert.match(await page.text(), /Sign-in failed/);
    const complete = await client.waitForNotification('codex/event/login_chat_gpt_complete');
    assert.equal(complete.params.loginId, login.loginId);
    assert.equal(complete.params.success, false);
    assert.equal(complete.params.errorCode, 'token_exchange_failed');
    assert.match(complete.params.error, expected);
    await portFreed(login.port);
    assert.deepEqual(await readdir(home.path), [], 'nothing written');
    await client.request('ping', undefined, 'end');
    assert.equal(client.notifications('codex/event/auth_status_change').length, 0);
    assert.equal(issuer.calls.length, 1, 'no API-key exchange after a failed code exchange');
  });
}

test('a token endpoint whose error code is hostile: the completion says only that there was one (issue 26: it could echo the verifier)', async (t) => {
  const hostileCode = '<img src=x onerror=alert(1)>\u001b[31m\ninvalid_grant\u202e' + 'x'.repeat(10_000);
  const issuer = await issuerWith(t, { onCode: () => ({ status: 400, json: { error: hostileCode, error_description: 'y'.repeat(10_000) } }) });
  const { client } = await serverFor(t, issuer.url);
  const login = await startLogin(client);
  await fetch(login.callbackUrl('c-hostile')).then((r) => r.text());
  const { params } = await client.waitForNotification('codex/event/login_chat_gpt_complete');
  assert.equal(params.errorCode, 'token_exchange_failed');
  const error: string = params.error;
  assert.equal(error, 'Token exchange failed: token endpoint returned status 400 (an error code this server does not know)');
  assert.ok(error.length < 200, `bounded: ${error.length} chars`);
  assert.doesNotMatch(error, /[\p{Cc}\p{Cf}<>]|y{20}/u);
});

test('a cancel that arrives while the code exchange hangs is never lost: cancelled, nothing written', async (t) => {
  let exchangeStarted!: () => void;
  const started = new Promise<void>((resolve) => (exchangeStarted = resolve));
  const issuer = await issuerWith(t, {
    onCode: () => {
      exchangeStarted();
      return 'hang';
    },
  });
  const { client, home } = await serverFor(t, issuer.url);
  const login = await startLogin(client);
  const browser = fetch(login.callbackUrl('c3')).then(async (r) => ({ status: r.status, text: await r.text() }), () => 'closed' as const);
  await started;
  assert.deepEqual(await client.call('cancelLoginChatGpt', { loginId: login.loginId }), {});
  const complete = await client.waitForNotification('codex/event/login_chat_gpt_complete');
  assert.deepEqual(complete.params, { loginId: login.loginId, success: false, error: 'Login server error: Login was not completed', errorCode: 'cancelled' });
  const answer = await browser;
  assert.ok(answer === 'closed' || /cancelled/.test(answer.text), 'the browser is told, or the listener is gone');
  assert.equal(await portIsFree(login.port), true, 'cancel answers after the listener closed');
  assert.deepEqual(await filesBesideLocks(home.path), []);
  await client.request('ping', undefined, 'end');
  assert.equal(client.notifications('codex/event/login_chat_gpt_complete').length, 1);
  assert.equal(client.notifications('codex/event/auth_status_change').length, 0);
});

test('auth.json that cannot be written: persist_failed, and the login still ends once', async (t) => {
  const issuer = await issuerWith(t, {});
  const home = await tempHome();
  // A directory where auth.json should be: the rename onto it fails.
  await mkdir(join(home.authFile, 'blocker'), { recursive: true });
  await writeFile(join(home.authFile, 'blocker', 'x'), '');
  const { client } = await serverFor(t, issuer.url, home);
  const login = await startLogin(client);
  const page = await fetch(login.callbackUrl('c4'));
  assert.equal(page.status, 500);
  const complete = await client.waitForNotification('codex/event/login_chat_gpt_complete');
  assert.equal(complete.params.success, false);
  assert.equal(complete.params.errorCode, 'persist_failed');
  assert.match(complete.params.error, /^Unable to persist auth file: /);
  await portFreed(login.port);
  assert.deepEqual(await filesBesideLocks(home.path), ['auth.json'], 'no temp file left behind');
});

test('an enterprise sign-in is in force as chatgpt: it writes auth_mode chatgpt, as 0.171 does (0.25 used the exchanged key)', async (t) => {
  const enterprise = { email: 'boss@corp.example', planType: 'enterprise', accountId: 'acct-ent' };
  const issuer = await issuerWith(t, {
    onCode: async () => ({ status: 200, json: { id_token: await testJwt(enterprise), access_token: await testJwt(enterprise), refresh_token: 'rt-ent' } }),
  });
  const { client } = await serverFor(t, issuer.url);
  const login = await startLogin(client);
  assert.equal((await fetch(login.callbackUrl('c5'), { redirect: 'manual' })).status, 302);
  assert.deepEqual((await client.waitForNotification('codex/event/login_chat_gpt_complete')).params, { loginId: login.loginId, success: true });
  assert.deepEqual((await client.waitForNotification('codex/event/auth_status_change')).params, { authMethod: 'chatgpt' });
  assert.equal((await client.call('getAuthStatus')).authMethod, 'chatgpt');
});
