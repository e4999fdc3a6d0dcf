/** Beyond the original: API-key and device-code sign-in, forced_login_method, and the v2 account API. */
import assert from 'node:assert/strict';
import { readFile, stat } from 'node:fs/promises';
import { test } from 'node:test';
import { startEmbeddedIssuer, type EmbeddedIssuerOptions } from '../src/issuer/embedded-issuer.js';
import { startFakeIssuer } from './support/fake-issuer.js';
import { spawnServer } from './support/rpc-client.js';
import { tempHome, type TempHome } from './support/temp-home.js';
import { chatgptAuthRecord, testJwt } from './support/tokens.js';

async function server(t: { after(fn: () => unknown): void }, args: string[] = [], home?: TempHome) {
  const dir = home ?? (await tempHome());
  if (!home) t.after(() => dir.remove());
  const client = spawnServer({ codexHome: dir.path, args, env: { CODEX_AUTH_MCP_LOG: 'debug' } });
  t.after(async () => {
    client.kill();
    await client.exited;
  });
  return { client, home: dir };
}

async function issuer(t: { after(fn: () => unknown): void }, options: EmbeddedIssuerOptions = {}) {
  const started = await startEmbeddedIssuer(options);
  t.after(() => started.close());
  return started;
}

test('loginApiKey stores the key atomically (0600), announces apikey, and never logs the key', async (t) => {
  const { client, home } = await server(t);
  const response = await client.request('loginApiKey', { apiKey: 'sk-live-secret-123' });
  assert.deepEqual(response.result, {});
  const change = await client.waitForNotification('codex/event/auth_status_change');
  assert.deepEqual(change.params, { authMethod: 'apikey' });
  assert.ok(client.messages.indexOf(response) < client.messages.indexOf(change));
  assert.deepEqual(JSON.parse(await readFile(home.authFile, 'utf8')), { OPENAI_API_KEY: 'sk-live-secret-123', tokens: null });
  assert.equal((await stat(home.authFile)).mode & 0o777, 0o600);
  assert.equal((await client.call('getAuthStatus', { includeToken: true })).authToken, 'sk-live-secret-123');
  assert.equal(client.stderr.includes('sk-live-secret-123'), false);
  for (const bad of [{ apiKey: '' }, { apiKey: 42 }, {}]) {
    const refused = await client.request('loginApiKey', bad);
    assert.equal(refused.error?.code, -32602);
    assert.match(refused.error!.message, /apiKey/);
  }
});

test('loginApiKey cancels a pending browser login', async (t) => {
  const { client } = await server(t, ['-c', 'login_callback_port=0', '-c', 'auth_issuer=http://127.0.0.1:9']);
  const { loginId } = await client.call('loginChatGpt');
  await client.call('loginApiKey', { apiKey: 'sk-x' });
  const ended = await client.waitForNotification('codex/event/login_chat_gpt_complete');
  assert.equal(ended.params.loginId, loginId);
  assert.equal(ended.params.errorCode, 'cancelled');
});

test('forced_login_method refuses the other way with codex messages', async (t) => {
  const chatgptOnly = await server(t, ['-c', 'forced_login_method=chatgpt']);
  assert.deepEqual((await chatgptOnly.client.request('loginApiKey', { apiKey: 'sk-x' })).error, {
    code: -32600,
    message: 'API key login is disabled. Use ChatGPT login instead.',
  });
  const apiOnly = await server(t, ['-c', 'forced_login_method=api']);
  assert.deepEqual((await apiOnly.client.request('loginChatGpt')).error, {
    code: -32600,
    message: 'ChatGPT login is disabled. Use API key login instead.',
  });
  assert.equal((await apiOnly.client.request('account/login/start', { type: 'chatgptDeviceCode' })).error?.code, -32600);
});

test('device-code login against the embedded issuer: code shown, approved, tokens stored', async (t) => {
  const embedded = await issuer(t, { deviceCodeInterval: '1' });
  const { client, home } = await server(t, ['-c', `auth_issuer=${embedded.url}`]);
  const started = await client.call('account/login/start', { type: 'chatgptDeviceCode' });
  assert.equal(started.type, 'chatgptDeviceCode');
  assert.equal(started.verificationUrl, `${embedded.url}/codex/device`);
  assert.match(started.userCode, /^[A-Z0-9]{4}-[A-Z0-9]{5}$/);
  // A person enters the code on the device page.
  const page = await fetch(`${embedded.url}/codex/device`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ user_code: started.userCode, email: 'pro@example.com' }).toString(),
  });
  assert.equal(page.status, 200);
  const v2 = await client.waitForNotification('account/login/completed', undefined, 20_000);
  assert.deepEqual(v2.params, { loginId: started.loginId, success: true, error: null });
  const v1 = await client.waitForNotification('codex/event/login_chat_gpt_complete');
  assert.deepEqual(v1.params, { loginId: started.loginId, success: true });
  const updated = await client.waitForNotification('account/updated');
  assert.deepEqual(updated.params, { authMode: 'chatgpt', planType: 'pro' });
  const stored = JSON.parse(await readFile(home.authFile, 'utf8'));
  assert.equal(stored.tokens.account_id, 'acct-demo-0002');
  assert.equal(stored.OPENAI_API_KEY, null, 'as codex, a device sign-in stores no exchanged key');
  const account = await client.call('account/read');
  assert.deepEqual(account, { account: { type: 'chatgpt', email: 'pro@example.com', planType: 'pro' }, requiresOpenaiAuth: true });
});

test('device code: cancel stops polling; 404 means not enabled; expiry ends with errorCode expired', async (t) => {
  const embedded = await issuer(t, { deviceCodeInterval: 1 });
  const { client } = await server(t, ['-c', `auth_issuer=${embedded.url}`, '-c', 'device_code_timeout_secs=2.5']);
  const first = await client.call('account/login/start', { type: 'chatgptDeviceCode' });
  assert.deepEqual(await client.call('account/login/cancel', { loginId: first.loginId }), { status: 'canceled' });
  const cancelled = await client.waitForNotification('account/login/completed', (p) => p.loginId === first.loginId);
  assert.equal(cancelled.params.success, false);
  const pollsAfterCancel = embedded.stats.devicePolls;
  assert.deepEqual(await client.call('account/login/cancel', { loginId: first.loginId }), { status: 'notFound' });

  const second = await client.call('account/login/start', { type: 'chatgptDeviceCode' });
  const expired = await client.waitForNotification('account/login/completed', (p) => p.loginId === second.loginId, 20_000);
  assert.equal(expired.params.success, false);
  assert.equal(expired.params.errorCode, 'expired');
  assert.ok(embedded.stats.devicePolls > pollsAfterCancel, 'the second login polled');

  const unsupported = await startFakeIssuer({});
  t.after(() => unsupported.close());
  const other = await server(t, ['-c', `auth_issuer=${unsupported.url}`]);
  const refused = await other.client.request('account/login/start', { type: 'chatgptDeviceCode' });
  assert.equal(refused.error?.code, -32603);
  assert.match(refused.error!.message, /device-code login is not enabled/);
});

test('device code: a missing interval and a 429 slow-down still end in success', async (t) => {
  let polls = 0;
  const scripted = await startFakeIssuer({
    async onOther(call) {
      if (call.path === '/api/accounts/deviceauth/usercode') return { status: 200, json: { device_auth_id: 'dev-1', usercode: 'ABCD-EFGHI' } };
      if (call.path === '/api/accounts/deviceauth/token') {
        polls++;
        if (polls === 1) return { status: 403, json: { error: 'authorization_pending' } };
        if (polls === 2) return { status: 429 };
        return { status: 200, json: { authorization_code: 'code-1', code_challenge: 'c', code_verifier: 'v' } };
      }
      if (call.path === '/oauth/token' && call.body['grant_type'] === 'authorization_code') {
        assert.equal(call.body['redirect_uri'], `${scripted.url}/deviceauth/callback`);
        assert.equal(call.body['code_verifier'], 'v');
        const jwt = await testJwt({ email: 'd@example.com', planType: 'plus', accountId: 'acct-d' });
        return { status: 200, json: { id_token: jwt, access_token: jwt, refresh_token: 'rt-d' } };
      }
      return { status: 404 };
    },
  });
  t.after(() => scripted.close());
  const { client } = await server(t, ['-c', `auth_issuer=${scripted.url}`]);
  const started = await client.call('account/login/start', { type: 'chatgptDeviceCode' });
  assert.equal(started.userCode, 'ABCD-EFGHI', 'the "usercode" spelling is accepted');
  const done = await client.waitForNotification('account/login/completed', (p) => p.loginId === started.loginId, 60_000);
  assert.equal(done.params.success, true, JSON.stringify(done.params));
  assert.equal(polls, 3);
});

test('v2: account/read, account/login/start apiKey, account/logout, and their notifications', async (t) => {
  const home = await tempHome();
  t.after(() => home.remove());
  await home.writeAuth(await chatgptAuthRecord({ email: 'e@example.com', planType: 'weird-plan', accountId: 'a' }));
  const { client } = await server(t, [], home);
  assert.deepEqual(await client.call('account/read', {}), {
    account: { type: 'chatgpt', email: 'e@example.com', planType: 'unknown' },
    requiresOpenaiAuth: true,
  });
  assert.deepEqual(await client.call('account/login/start', { type: 'apiKey', apiKey: 'sk-v2' }), { type: 'apiKey' });
  assert.deepEqual((await client.waitForNotification('account/login/completed')).params, { loginId: null, success: true, error: null });
  assert.deepEqual((await client.waitForNotification('account/updated')).params, { authMode: 'apikey', planType: null });
  assert.deepEqual((await client.call('account/read')).account, { type: 'apiKey' });
  assert.deepEqual(await client.call('account/logout'), { revoked: false });
  assert.deepEqual((await client.waitForNotification('account/updated', (p) => p.authMode === null)).params, { authMode: null, planType: null });
  assert.deepEqual(await client.call('account/read'), { account: null, requiresOpenaiAuth: true });
  const browser = await client.request('account/login/start', { type: 'bogus' });
  assert.equal(browser.error?.code, -32602);
});

test('a 0.25 client that never calls account/* sees no v2 notifications', async (t) => {
  const { client } = await server(t);
  await client.call('loginApiKey', { apiKey: 'sk-x' });
  await client.waitForNotification('codex/event/auth_status_change');
  await client.call('ping');
  assert.equal(client.notifications().filter((m) => m.method!.startsWith('account/')).length, 0);
});
