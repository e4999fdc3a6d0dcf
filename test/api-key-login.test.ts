/**
 * API-key sign-in (`loginApiKey`, v1 name, as codex added it after 0.25) and `forced_login_method`,
 * across every front end: v1, v2, the MCP tools and the CLI refuse the other method alike.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFile, stat } from 'node:fs/promises';
import { test } from 'node:test';
import { promisify } from 'node:util';
import { serverEntry } from './support/paths.js';
import { startServer } from './support/spawn-server.js';
import { tempHome, type TempHome } from './support/temp-home.js';
import { chatgptAuthRecord } from '../dev/jwt.js';

const run = promisify(execFile);
type TestContext = { after(fn: () => unknown): void };

async function server(t: TestContext, args: string[] = [], existing?: TempHome) {
  const home = existing ?? (await tempHome());
  t.after(() => home.remove());
  const client = startServer(t, { codexHome: home.path, args, env: { CODEX_AUTH_MCP_LOG: 'trace' } });
  await client.initialize();
  return { client, home };
}

const API_KEY_DISABLED = 'API key login is disabled. Use ChatGPT login instead.';
const CHATGPT_DISABLED = 'ChatGPT login is disabled. Use API key login instead.';

test('loginApiKey writes {OPENAI_API_KEY, tokens: null} atomically with mode 0600, then announces apikey; the key is never logged', async (t) => {
  const { client, home } = await server(t);
  const response = await client.request('loginApiKey', { apiKey: 'sk-live-secret-123' });
  assert.deepEqual(response.result, {});
  const change = await client.waitForNotification('codex/event/auth_status_change');
  assert.deepEqual(change.params, { authMethod: 'apikey' });
  assert.ok(client.messages.indexOf(response) < client.messages.indexOf(change), 'the notification follows the response');
  assert.equal(await readFile(home.authFile, 'utf8').then((text) => text.includes('\n')), true);
  assert.deepEqual(JSON.parse(await readFile(home.authFile, 'utf8')), { auth_mode: 'apikey', OPENAI_API_KEY: 'sk-live-secret-123' });
  assert.equal((await stat(home.authFile)).mode & 0o777, 0o600);
  assert.equal((await stat(home.path)).mode & 0o077, 0, 'CODEX_HOME is private');
  const status = await client.call('getAuthStatus', { includeToken: true });
  assert.deepEqual(status, { preferredAuthMethod: 'chatgpt', authMethod: 'apikey', authToken: 'sk-live-secret-123' });
  assert.equal(client.notifications('codex/event/login_chat_gpt_complete').length, 0);
  assert.equal((await client.close()).code, 0);
  assert.match(client.stderr, /shutting down/, 'logging was on, at trace level');
  assert.equal(client.stderr.includes('sk-live-secret-123'), false, 'the key is not in the logs');
});

test('loginApiKey refuses an empty, non-string or missing key with -32602 naming apiKey, and writes nothing', async (t) => {
  const { client, home } = await server(t);
  for (const bad of [{ apiKey: '' }, { apiKey: 42 }, { apiKey: null }, {}, { key: 'sk-x' }]) {
    const refused = await client.request('loginApiKey', bad);
    assert.equal(refused.error?.code, -32602, JSON.stringify(bad));
    assert.match(refused.error!.message, /apiKey/);
  }
  assert.equal((await client.request('loginApiKey')).error?.code, -32602, 'no params at all');
  await assert.rejects(stat(home.authFile), { code: 'ENOENT' });
  assert.equal(client.notifications().length, 0);
});

test('loginApiKey replaces ChatGPT tokens entirely (no fields of the old record kept)', async (t) => {
  const home = await tempHome();
  await home.writeAuth({ ...(await chatgptAuthRecord()), extra_field: 'kept only for refreshes' });
  const { client } = await server(t, [], home);
  assert.equal((await client.call('getAuthStatus')).authMethod, 'chatgpt');
  await client.call('loginApiKey', { apiKey: 'sk-new' });
  assert.deepEqual(JSON.parse(await readFile(home.authFile, 'utf8')), { auth_mode: 'apikey', OPENAI_API_KEY: 'sk-new' });
  assert.deepEqual((await client.waitForNotification('codex/event/auth_status_change')).params, { authMethod: 'apikey' });
});

test('loginApiKey cancels a pending browser login first', async (t) => {
  const { client } = await server(t, ['-c', 'login_callback_port=0', '-c', 'auth_issuer=http://127.0.0.1:9']);
  const { loginId } = await client.call('loginChatGpt');
  const response = await client.request('loginApiKey', { apiKey: 'sk-x' });
  const ended = await client.waitForNotification('codex/event/login_chat_gpt_complete');
  assert.deepEqual(ended.params, { loginId, success: false, error: 'Login server error: Login was not completed', errorCode: 'cancelled' });
  const change = await client.waitForNotification('codex/event/auth_status_change');
  const at = (m: object) => client.messages.indexOf(m);
  assert.ok(at(ended) < at(response) && at(response) < at(change), 'cancelled before the key is stored and announced');
  assert.equal((await client.request('cancelLoginChatGpt', { loginId })).error?.code, -32600, 'that login is gone');
});

test('forced_login_method = "chatgpt" refuses API keys in v1, v2 and the login tool with codex\'s message', async (t) => {
  const { client, home } = await server(t, ['-c', 'forced_login_method=chatgpt', '-c', 'login_callback_port=0', '-c', 'auth_issuer=http://127.0.0.1:9']);
  assert.deepEqual((await client.request('loginApiKey', { apiKey: 'sk-x' })).error, { code: -32600, message: API_KEY_DISABLED });
  assert.deepEqual((await client.request('account/login/start', { type: 'apiKey', apiKey: 'sk-x' })).error, { code: -32600, message: API_KEY_DISABLED });
  const tool = await client.call('tools/call', { name: 'login', arguments: { method: 'api_key', apiKey: 'sk-x' } });
  assert.deepEqual(tool, { content: [{ type: 'text', text: API_KEY_DISABLED }], isError: true });
  await assert.rejects(stat(home.authFile), { code: 'ENOENT' });
  // ChatGPT sign-in is still allowed.
  assert.equal((await client.call('account/login/start', { type: 'chatgpt' })).type, 'chatgpt');
  assert.ok((await client.call('loginChatGpt')).loginId);
});

test('forced_login_method = "api" refuses browser and device-code sign-in everywhere, and allows the API key', async (t) => {
  const home = await tempHome();
  await home.writeConfig('forced_login_method = "api"\n');
  const { client } = await server(t, [], home);
  assert.deepEqual((await client.request('loginChatGpt')).error, { code: -32600, message: CHATGPT_DISABLED });
  for (const type of ['chatgpt', 'chatgptDeviceCode']) {
    assert.deepEqual((await client.request('account/login/start', { type })).error, { code: -32600, message: CHATGPT_DISABLED });
  }
  for (const method of ['chatgpt', 'device_code']) {
    const tool = await client.call('tools/call', { name: 'login', arguments: { method } });
    assert.equal(tool.isError, true);
    assert.equal(tool.content[0].text, CHATGPT_DISABLED);
  }
  assert.deepEqual(await client.call('loginApiKey', { apiKey: 'sk-allowed' }), {});
  assert.deepEqual(await client.call('account/read'), { account: { type: 'apiKey' }, userId: null, requiresOpenaiAuth: true, workspaceRouting: null });
});

test('forced_login_method reaches the CLI too: login --with-api-key is refused and stores nothing', async (t) => {
  const home = await tempHome();
  t.after(() => home.remove());
  const login = run(process.execPath, [serverEntry, '-c', 'forced_login_method=chatgpt', 'login', '--with-api-key'], { env: { ...process.env, CODEX_HOME: home.path } });
  login.child.stdin!.end('sk-cli\n');
  await assert.rejects(login, (error: { code: number; stderr: string }) => {
    assert.equal(error.code, 1);
    assert.equal(error.stderr, `codex-auth-mcp: ${API_KEY_DISABLED}\n`);
    return true;
  });
  await assert.rejects(stat(home.authFile), { code: 'ENOENT' });
});
