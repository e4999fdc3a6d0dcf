/**
 * The v2 account API (codex app-server shapes) over stdio: account/read, account/login/start
 * (apiKey, chatgpt; chatgptDeviceCode has its own file), account/login/cancel, account/logout,
 * and the account/login/completed and account/updated notifications, sent only to a client that
 * has used account/*.
 */
import assert from 'node:assert/strict';
import { readFile, stat } from 'node:fs/promises';
import { test } from 'node:test';
import { signInAtIssuer } from '../dev/issuer/scripted-sign-in.js';
import { eventually } from './support/eventually.js';
import { RotatingTokens, startFakeIssuer } from '../dev/fakes/fake-issuer.js';
import { embeddedLoginSetup, loginServer } from './support/login-servers.js';
import type { RpcClient } from '../dev/rpc-client.js';
import { startServer } from './support/spawn-server.js';
import { tempHome, type TempHome } from './support/temp-home.js';
import { chatgptAuthRecord } from '../dev/jwt.js';

type TestContext = { after(fn: () => unknown): void };

async function server(t: TestContext, options: { home?: TempHome; args?: string[]; env?: Record<string, string> } = {}) {
  const home = options.home ?? (await tempHome());
  t.after(() => home.remove());
  const client = startServer(t, { codexHome: home.path, args: options.args ?? [], env: { CODEX_AUTH_MCP_LOG: 'debug', ...options.env } });
  await client.initialize();
  return { client, home };
}

const accountOf = async (client: RpcClient) => (await client.call('account/read', {})).account;

test('account/read: signed out, API key, ChatGPT with its plan; other processes\' changes come as account/updated', async (t) => {
  const { client, home } = await server(t);
  // Signed out, ours names where it looked (an extra field; 0.171's four are unchanged).
  assert.deepEqual(await client.call('account/read'), { account: null, userId: null, requiresOpenaiAuth: true, workspaceRouting: null, codexHome: { path: home.path, source: 'env' } });

  await home.writeAuth({ OPENAI_API_KEY: 'sk-elsewhere', tokens: null });
  assert.deepEqual((await client.waitForNotification('account/updated')).params, { authMode: 'apikey', planType: null, reason: null });
  assert.deepEqual(await client.call('account/read', {}), { account: { type: 'apiKey' }, userId: null, requiresOpenaiAuth: true, workspaceRouting: null });

  await home.writeAuth(await chatgptAuthRecord({ email: 'pro@example.com', planType: 'pro', accountId: 'a' }));
  assert.deepEqual((await client.waitForNotification('account/updated', (p) => p.authMode === 'chatgpt')).params, { authMode: 'chatgpt', planType: 'pro', reason: null });
  assert.deepEqual(await client.call('account/read', { refreshToken: false }), {
    account: { type: 'chatgpt', email: 'pro@example.com', planType: 'pro', workspaceName: null },
    userId: null,
    requiresOpenaiAuth: true,
    workspaceRouting: null,
  });

  // Plans codex does not know, and a missing plan claim, read as "unknown" (serde(other)); aliases map.
  for (const [claim, expected] of [[undefined, 'unknown'], ['weird-plan', 'unknown'], ['education', 'edu'], ['ENTERPRISE', 'enterprise'], ['go', 'go'], ['business', 'business']] as const) {
    await home.writeAuth(await chatgptAuthRecord({ email: 'e@example.com', ...(claim && { planType: claim }), accountId: 'a' }));
    await eventually(async () => assert.deepEqual(await accountOf(client), { type: 'chatgpt', email: 'e@example.com', planType: expected, workspaceName: null }));
  }
  // The 0.25 notification flows as well, to everyone.
  assert.ok(client.notifications('codex/event/auth_status_change').length >= 2);
});

test('account/read as 0.171: the env var is no account, an empty key is one, no email is null, a ChatGPT mode without tokens is refused', async (t) => {
  const withEnv = await server(t, { env: { OPENAI_API_KEY: 'sk-env' } });
  assert.deepEqual(await withEnv.client.call('account/read'), { account: null, userId: null, requiresOpenaiAuth: true, workspaceRouting: null, codexHome: { path: withEnv.home.path, source: 'env' } });

  const empty = await tempHome();
  await empty.writeAuth({ OPENAI_API_KEY: '' });
  const emptyKey = await server(t, { home: empty });
  assert.deepEqual((await emptyKey.client.call('account/read')).account, { type: 'apiKey' });
  assert.equal((await emptyKey.client.call('getAuthStatus')).authMethod, undefined, 'no bearer to hand out');

  const home = await tempHome();
  await home.writeAuth(await chatgptAuthRecord({ planType: 'plus', accountId: 'a' }));
  const { client } = await server(t, { home });
  assert.deepEqual((await client.call('account/read', {})).account, { type: 'chatgpt', email: null, planType: 'plus', workspaceName: null });

  const noTokens = await tempHome();
  await noTokens.writeAuth({ auth_mode: 'chatgpt', OPENAI_API_KEY: 'sk-x' });
  const refused = await server(t, { home: noTokens });
  assert.deepEqual((await refused.client.request('account/read', {})).error, { code: -32600, message: 'plan type is required for chatgpt authentication' });
});

test('account/read {refreshToken: true} refreshes the ChatGPT tokens first', async (t) => {
  const rotating = new RotatingTokens('rt-test-1', { email: 'me@example.com', planType: 'pro', accountId: 'acct-1' });
  const issuer = await startFakeIssuer({ onRefresh: (_n, body) => rotating.reply(body) });
  t.after(() => issuer.close());
  const home = await tempHome();
  await home.writeAuth(await chatgptAuthRecord({ email: 'me@example.com', planType: 'plus', accountId: 'acct-1' }));
  const { client } = await server(t, { home, args: ['-c', `auth_issuer=${issuer.url}`] });
  assert.deepEqual(await accountOf(client), { type: 'chatgpt', email: 'me@example.com', planType: 'plus', workspaceName: null });
  assert.equal(issuer.refreshCalls().length, 0, 'a fresh token is not refreshed by a plain read');
  const refreshed = await client.call('account/read', { refreshToken: true });
  assert.deepEqual(refreshed, { account: { type: 'chatgpt', email: 'me@example.com', planType: 'pro', workspaceName: null }, userId: null, requiresOpenaiAuth: true, workspaceRouting: null });
  assert.equal(issuer.refreshCalls().length, 1);
  assert.equal(JSON.parse(await readFile(home.authFile, 'utf8')).tokens.refresh_token, rotating.current);
  assert.equal((await client.request('account/read', { refreshToken: 'yes' })).error?.code, -32602);
});

test('account/login/start chatgpt: loginId and authUrl; signing in sends account/login/completed, then account/updated, and the 0.25 events', async (t) => {
  const { client, home } = await embeddedLoginSetup(t);
  const response = await client.request('account/login/start', { type: 'chatgpt' });
  const { type, loginId, authUrl } = response.result;
  assert.deepEqual(Object.keys(response.result).sort(), ['authUrl', 'loginId', 'type']);
  assert.equal(type, 'chatgpt');
  assert.match(loginId, /^[0-9a-f-]{36}$/);
  assert.match(authUrl, /redirect_uri=http%3A%2F%2F127\.0\.0\.1/);

  const callback = await signInAtIssuer(authUrl, 'plus@example.com');
  assert.equal((await fetch(callback, { redirect: 'manual' })).status, 302);
  const completed = await client.waitForNotification('account/login/completed');
  assert.deepEqual(completed.params, { loginId, success: true, error: null, onboardingEntrypoint: null });
  const updated = await client.waitForNotification('account/updated');
  assert.deepEqual(updated.params, { authMode: 'chatgpt', planType: 'plus', reason: null });
  const v1 = await client.waitForNotification('codex/event/login_chat_gpt_complete');
  assert.deepEqual(v1.params, { loginId, success: true });
  assert.deepEqual((await client.waitForNotification('codex/event/auth_status_change')).params, { authMethod: 'chatgpt' });
  const at = (m: object) => client.messages.indexOf(m);
  assert.ok(at(response) < at(completed) && at(completed) < at(updated));
  assert.deepEqual(await accountOf(client), { type: 'chatgpt', email: 'plus@example.com', planType: 'plus', workspaceName: null });
  assert.equal((await stat(home.authFile)).mode & 0o777, 0o600);
  assert.equal(client.notifications('account/login/completed').length, 1);
});

test('account/login/cancel: canceled (completed with an error, no account/updated), notFound, and codex\'s errors for bad ids', async (t) => {
  const { client } = await loginServer(t, 'http://127.0.0.1:9');
  const { loginId } = await client.call('account/login/start', { type: 'chatgpt' });
  assert.deepEqual(await client.call('account/login/cancel', { loginId }), { status: 'canceled' });
  const completed = await client.waitForNotification('account/login/completed');
  assert.equal(completed.params.loginId, loginId);
  assert.equal(completed.params.success, false);
  assert.equal(typeof completed.params.error, 'string');
  assert.ok(completed.params.error.length > 0);
  assert.equal(completed.params.errorCode, 'cancelled');
  assert.deepEqual(await client.call('account/login/cancel', { loginId }), { status: 'notFound' }, 'a second cancel');
  assert.deepEqual(await client.call('account/login/cancel', { loginId: '5f0c9a52-2d2f-4c4e-9a8e-0d5b7c7f0a11' }), { status: 'notFound' });
  assert.deepEqual((await client.request('account/login/cancel', { loginId: 'not-a-uuid' })).error, { code: -32600, message: 'invalid login id: not-a-uuid' });
  const missing = await client.request('account/login/cancel', {});
  assert.equal(missing.error?.code, -32602);
  assert.match(missing.error!.message, /loginId/);
  await client.call('ping');
  assert.equal(client.notifications('account/updated').length, 0);
  assert.equal(client.notifications('account/login/completed').length, 1);
});

test('account/login/start apiKey and account/logout: results, files and notifications as codex app-server', async (t) => {
  const home = await tempHome();
  await home.writeAuth(await chatgptAuthRecord({ email: 'e@example.com', planType: 'plus', accountId: 'a' }));
  const { client } = await server(t, { home });
  const started = await client.request('account/login/start', { type: 'apiKey', apiKey: 'sk-v2-secret' });
  assert.deepEqual(started.result, { type: 'apiKey' });
  const completed = await client.waitForNotification('account/login/completed');
  assert.deepEqual(completed.params, { loginId: null, success: true, error: null, onboardingEntrypoint: null });
  const updated = await client.waitForNotification('account/updated');
  assert.deepEqual(updated.params, { authMode: 'apikey', planType: null, reason: null });
  assert.deepEqual((await client.waitForNotification('codex/event/auth_status_change')).params, { authMethod: 'apikey' });
  const at = (m: object) => client.messages.indexOf(m);
  assert.ok(at(started) < at(completed) && at(completed) < at(updated));
  assert.deepEqual(JSON.parse(await readFile(home.authFile, 'utf8')), { auth_mode: 'apikey', OPENAI_API_KEY: 'sk-v2-secret' });
  assert.equal(client.notifications('codex/event/login_chat_gpt_complete').length, 0, 'an API-key sign-in has no loginId to report in 0.25 form');
  assert.deepEqual(await accountOf(client), { type: 'apiKey' });

  // {revoked} is an extra field beside codex's {}: nothing to revoke for an API key.
  assert.deepEqual(await client.call('account/logout'), { revoked: false });
  assert.deepEqual((await client.waitForNotification('account/updated', (p) => p.authMode === null)).params, { authMode: null, planType: null, reason: null });
  assert.deepEqual((await client.waitForNotification('codex/event/auth_status_change', (p) => !p.authMethod)).params, {});
  await assert.rejects(stat(home.authFile), { code: 'ENOENT' });
  assert.deepEqual(await client.call('account/read'), { account: null, userId: null, requiresOpenaiAuth: true, workspaceRouting: null, codexHome: { path: home.path, source: 'env' } });
  assert.equal(client.stderr.includes('sk-v2-secret'), false);
});

test('account/login/start params: an unknown type, an empty or missing apiKey are -32602 naming the field', async (t) => {
  const { client, home } = await server(t);
  for (const [params, field] of [
    [{ type: 'bogus' }, /type/],
    [{}, /type/],
    [{ type: 'apiKey' }, /apiKey/],
    [{ type: 'apiKey', apiKey: '' }, /apiKey/],
    [{ type: 'apiKey', apiKey: 7 }, /apiKey/],
  ] as const) {
    const refused = await client.request('account/login/start', params);
    assert.equal(refused.error?.code, -32602, JSON.stringify(params));
    assert.match(refused.error!.message, field);
  }
  await assert.rejects(stat(home.authFile), { code: 'ENOENT' });
});

test('v2 notifications go only to a client that has called account/*; codex/event/* ones go to everyone', async (t) => {
  const { client } = await server(t);
  await client.call('loginApiKey', { apiKey: 'sk-one' });
  await client.waitForNotification('codex/event/auth_status_change');
  await client.call('logoutChatGpt', { revoke: false });
  await client.waitForNotification('codex/event/auth_status_change', (p) => !p.authMethod);
  await client.call('ping');
  assert.equal(client.notifications().filter((m) => m.method!.startsWith('account/')).length, 0, 'a 0.25 client sees no change');

  // Any account/* call subscribes, even a read; v1 actions then notify in both forms.
  await client.call('account/read');
  await client.call('loginApiKey', { apiKey: 'sk-two' });
  assert.deepEqual((await client.waitForNotification('account/login/completed')).params, { loginId: null, success: true, error: null, onboardingEntrypoint: null });
  assert.deepEqual((await client.waitForNotification('account/updated')).params, { authMode: 'apikey', planType: null, reason: null });
  assert.equal(client.notifications('codex/event/auth_status_change').length, 3);
});
