/**
 * Auth as MCP tools, through a generic MCP client: the official SDK's Client over its stdio
 * transport, as any MCP host would spawn and use the server (initialize era; the 2026-07-28 era
 * is in mcp-modern-sdk.test.ts, the MCP Inspector CLI in inspector-cli.test.ts).
 */
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { test } from 'node:test';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { startEmbeddedIssuer } from '../dev/issuer/embedded-issuer.js';
import { signInAtIssuer } from '../dev/issuer/scripted-sign-in.js';
import { eventually } from './support/eventually.js';
import { serverEntry } from './support/paths.js';
import { signedOutToolText } from './support/signed-out.js';
import { tempHome, type TempHome } from './support/temp-home.js';
import { chatgptAuthRecord } from '../dev/jwt.js';
import { SIGN_IN_LIFETIME_NOTE } from '../src/server/tools/login.js';

type TestContext = { after(fn: () => unknown): void };
type Notification = { method: string; params?: Record<string, unknown> };
type ToolResult = { content: { type: string; text: string }[]; structuredContent?: any; isError?: boolean };

/** Connects the SDK client to a freshly spawned server; collects the notifications it receives. */
async function connect(t: TestContext, args: string[] = [], home?: TempHome) {
  const dir = home ?? (await tempHome());
  t.after(() => dir.remove());
  const client = new Client({ name: 'generic-mcp-client', version: '1.0.0' });
  const notifications: Notification[] = [];
  const waiters: { match: (n: Notification) => boolean; resolve: (n: Notification) => void }[] = [];
  client.fallbackNotificationHandler = async (notification) => {
    notifications.push(notification as Notification);
    for (const waiter of waiters.filter((w) => w.match(notification as Notification))) {
      waiters.splice(waiters.indexOf(waiter), 1);
      waiter.resolve(notification as Notification);
    }
  };
  const transport = new StdioClientTransport({
    command: process.execPath,
    args: [serverEntry, 'mcp', '-c', 'login_callback_port=0', ...args],
    env: { CODEX_HOME: dir.path, PATH: process.env['PATH'] ?? '', CODEX_AUTH_MCP_LOG: 'debug' },
    stderr: 'pipe',
  });
  let stderr = '';
  transport.stderr?.on('data', (chunk) => (stderr += chunk));
  await client.connect(transport);
  t.after(() => client.close());
  const call = async (name: string, args: Record<string, unknown> = {}) => (await client.callTool({ name, arguments: args })) as ToolResult;
  /** The first notification (already received or to come) with this method whose params match. */
  const notification = (method: string, predicate: (params: Record<string, unknown>) => boolean = () => true): Promise<Notification> => {
    const match = (n: Notification) => n.method === method && predicate(n.params ?? {});
    const seen = notifications.find(match);
    if (seen) return Promise.resolve(seen);
    return new Promise<Notification>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no ${method} notification`)), 30_000);
      waiters.push({ match, resolve: (n) => (clearTimeout(timer), resolve(n)) });
    });
  };
  return { client, call, notification, notifications, home: dir, stderr: () => stderr };
}

test('tools/list: auth_status, login, logout, list_accounts and switch_account, with JSON Schemas generated from the zod schemas', async (t) => {
  const { client } = await connect(t);
  assert.deepEqual(client.getServerCapabilities()?.tools, { listChanged: false });
  const { tools } = await client.listTools();
  assert.deepEqual(tools.map((tool) => tool.name), ['auth_status', 'login', 'logout', 'list_accounts', 'switch_account']);
  for (const tool of tools) {
    assert.ok(tool.title && tool.description, `${tool.name} is described`);
    assert.equal(tool.inputSchema.type, 'object');
    assert.equal((tool.inputSchema as any).$schema, undefined);
    assert.equal((tool.inputSchema as any).additionalProperties, false);
  }
  const [, login, logout] = tools;
  assert.deepEqual(login!.inputSchema.properties, {
    method: { type: 'string', enum: ['chatgpt', 'device_code', 'api_key'], description: 'How to sign in: a browser, a code entered on another device, or an API key.' },
    apiKey: { type: 'string', minLength: 1, description: 'The API key, for method "api_key".' },
  });
  assert.deepEqual(login!.inputSchema.required, ['method']);
  assert.equal((logout!.inputSchema.properties as any).revoke.type, 'boolean');
  assert.equal(logout!.inputSchema.required, undefined);
});

test('tools/call: bad arguments and unknown tools are tool results with isError, naming the field', async (t) => {
  const { call, home } = await connect(t);
  const cases: [string, Record<string, unknown>, RegExp][] = [
    ['login', { method: 'carrier_pigeon' }, /^method: /],
    ['login', {}, /^method: /],
    ['login', { method: 'api_key' }, /^apiKey: required when method is "api_key"$/],
    ['login', { method: 'api_key', apiKey: '' }, /^apiKey: /],
    ['login', { method: 'api_key', apiKey: 5 }, /^apiKey: /],
    ['login', { method: 'chatgpt', browser: 'firefox' }, /browser/],
    ['logout', { revoke: 'yes' }, /^revoke: /],
    ['nope', {}, /^Unknown tool 'nope'$/],
  ];
  for (const [name, args, message] of cases) {
    const result = await call(name, args);
    assert.equal(result.isError, true, `${name} ${JSON.stringify(args)}`);
    assert.equal(result.content[0]!.type, 'text');
    assert.match(result.content[0]!.text, message);
  }
  await assert.rejects(readFile(home.authFile), { code: 'ENOENT' });
});

test('auth_status, login api_key and logout: text for the person, structuredContent for programs', async (t) => {
  const home = await tempHome();
  await home.writeAuth(await chatgptAuthRecord({ email: 'me@example.com', planType: 'team', accountId: 'a' }));
  const { call, notification } = await connect(t, [], home);
  const status = await call('auth_status');
  assert.equal(status.isError, undefined);
  assert.equal(status.content[0]!.text, 'Signed in with ChatGPT as me@example.com (plan: team).');
  assert.deepEqual(status.structuredContent.account, { type: 'chatgpt', email: 'me@example.com', planType: 'team', workspaceName: null });
  assert.equal(status.structuredContent.authMethod, 'chatgpt');
  assert.equal(status.structuredContent.authToken, undefined, 'the tool never hands out a token');

  const login = await call('login', { method: 'api_key', apiKey: 'sk-tool-secret' });
  assert.deepEqual(login, { content: [{ type: 'text', text: 'Signed in with the API key.' }], structuredContent: { method: 'api_key' } });
  assert.deepEqual((await notification('codex/event/auth_status_change')).params, { authMethod: 'apikey' });
  assert.deepEqual(JSON.parse(await readFile(home.authFile, 'utf8')), { auth_mode: 'apikey', OPENAI_API_KEY: 'sk-tool-secret' });
  assert.equal((await call('auth_status')).content[0]!.text, 'Signed in with an OpenAI API key.');

  const logout = await call('logout', { revoke: false });
  assert.deepEqual(logout, { content: [{ type: 'text', text: 'Signed out.' }], structuredContent: { authMethod: null, revoked: false } });
  const after = await call('auth_status');
  // Signed out, it says where it looked and what to do (where-we-looked.test.ts has the rest).
  assert.equal(after.content[0]!.text, signedOutToolText(home.path));
  assert.equal(after.structuredContent.account, null);
  assert.deepEqual(after.structuredContent.codexHome, { path: home.path, source: 'env' });
  await assert.rejects(readFile(home.authFile), { code: 'ENOENT' });

  // Another process writes something unusable; the server notices it by itself.
  await home.writeAuth('{"tokens": 5}');
  const broken = await eventually(async () => {
    const result = await call('auth_status');
    assert.match(result.content[0]!.text, /^Signed out\. Problem: /);
    return result;
  });
  assert.equal(broken.structuredContent.authError.code, 'auth_file_unreadable');
});

test('login chatgpt and device_code through the tool: the URL or the code to show, then the sign-in completes', async (t) => {
  const issuer = await startEmbeddedIssuer({ deviceCodeInterval: 1 });
  t.after(() => issuer.close());
  const { call, notification, notifications, home, stderr } = await connect(t, ['-c', `auth_issuer=${issuer.url}`]);

  const browser = await call('login', { method: 'chatgpt' });
  assert.equal(browser.isError, undefined);
  const { authUrl, loginId } = browser.structuredContent;
  assert.equal(browser.structuredContent.method, 'chatgpt');
  assert.equal(browser.content[0]!.text, `Open this URL in a browser to sign in with ChatGPT:\n${authUrl}\n${SIGN_IN_LIFETIME_NOTE}`);
  assert.match(SIGN_IN_LIFETIME_NOTE, /lives as long as this MCP server.*one-shot client/);
  assert.ok(authUrl.startsWith(`${issuer.url}/oauth/authorize?`));
  assert.match(loginId, /^[0-9a-f-]{36}$/);

  // A device-code login supersedes the browser one; the person enters the code.
  const device = await call('login', { method: 'device_code' });
  const { verificationUrl, userCode } = device.structuredContent;
  assert.equal(verificationUrl, `${issuer.url}/codex/device`);
  assert.equal(device.content[0]!.text, `Open ${verificationUrl} on any device and enter the code ${userCode}.\nNever enter a code you did not start yourself: device codes are a common phishing target.\n${SIGN_IN_LIFETIME_NOTE}`);
  const superseded = await notification('codex/event/login_chat_gpt_complete');
  assert.deepEqual(superseded.params, { loginId, success: false, error: 'Login server error: Login was not completed', errorCode: 'superseded' });
  await issuer.approveDeviceCode(userCode, 'pro@example.com');
  const completed = await notification('codex/event/login_chat_gpt_complete', (p) => p['loginId'] === device.structuredContent.loginId);
  assert.deepEqual(completed.params, { loginId: device.structuredContent.loginId, success: true });
  assert.equal((await call('auth_status')).content[0]!.text, 'Signed in with ChatGPT as pro@example.com (plan: pro).');
  const stored = JSON.parse(await readFile(home.authFile, 'utf8'));
  assert.equal(stderr().includes(stored.tokens.refresh_token), false);

  // And the browser flow still completes through the tool's URL.
  const again = await call('login', { method: 'chatgpt' });
  const callback = await signInAtIssuer(again.structuredContent.authUrl, 'plus@example.com');
  assert.equal((await fetch(callback, { redirect: 'manual' })).status, 302);
  const browserDone = await notification('codex/event/login_chat_gpt_complete', (p) => p['loginId'] === again.structuredContent.loginId);
  assert.equal(browserDone.params?.['success'], true);
  assert.equal((await call('auth_status')).content[0]!.text, 'Signed in with ChatGPT as plus@example.com (plan: plus).');
  assert.equal(notifications.filter((n) => n.method.startsWith('account/')).length, 0, 'a tools-only client is not an account/* client');
});
