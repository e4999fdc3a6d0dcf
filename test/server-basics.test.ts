/**
 * The foundation over stdio, as an MCP client sees the built server: lifecycle and discovery,
 * the JSON-RPC error codes, params and ids, which credential is in force, auth.json watching and
 * writing, logs, shutdown and the command line. (test/stdio-server.test.ts has the first cut of
 * these; this file covers the rest of issue 2's list.)
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdir, readFile, rename, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { eventually } from './support/eventually.js';
import { projectRoot, serverEntry } from './support/paths.js';
import type { RpcClient } from '../dev/rpc-client.js';
import { startServer } from './support/spawn-server.js';
import { defaultHome, tempHome, type TempHome } from './support/temp-home.js';
import { chatgptAuthRecord } from '../dev/jwt.js';

type TestContext = { after(fn: () => unknown): void };

const packageJson = JSON.parse(await readFile(join(projectRoot, 'package.json'), 'utf8')) as { name: string; version: string };

/** A server on a fresh (or given) CODEX_HOME, without OPENAI_API_KEY unless `env` sets it; all of it removed after the test. */
async function started(t: TestContext, options: { home?: TempHome; env?: Record<string, string | undefined>; args?: string[] } = {}) {
  const home = options.home ?? (await tempHome());
  t.after(() => home.remove());
  const client = startServer(t, {
    codexHome: home.path,
    env: { OPENAI_API_KEY: undefined, ...options.env },
    ...(options.args && { args: options.args }),
  });
  return { home, client };
}

/** Runs the CLI to completion (stdin left open unless `input` is given) and collects its output. */
async function runCli(args: string[], env: Record<string, string | undefined> = {}, input?: string) {
  const child = spawn(process.execPath, [serverEntry, ...args], { env: { PATH: process.env['PATH'], ...env } });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk) => (stdout += chunk));
  child.stderr.on('data', (chunk) => (stderr += chunk));
  child.stdin.on('error', () => undefined);
  if (input !== undefined) child.stdin.end(input);
  const killer = setTimeout(() => child.kill('SIGKILL'), 15_000);
  const [code] = await once(child, 'exit');
  clearTimeout(killer);
  child.stdin.destroy();
  return { code: code as number | null, stdout, stderr };
}

/** A request that is answered after everything the server wrote for earlier lines. */
const marker = (client: RpcClient, id: string) => client.request('ping', undefined, id);

test('initialize answers the client revision when supported, else (and when absent) our latest', async (t) => {
  const cases: [requested: string | undefined, answered: string][] = [
    ['2025-11-25', '2025-11-25'],
    ['2025-06-18', '2025-06-18'],
    ['2025-03-26', '2025-03-26'],
    ['2024-11-05', '2024-11-05'],
    // Deliberate: the original echoes whatever it is sent; MCP says to answer with a version we
    // support. 2026-07-28 has no initialize: a client asking for it by handshake gets our latest legacy one.
    ['2026-07-28', '2025-11-25'],
    ['not-a-date', '2025-11-25'],
    [undefined, '2025-11-25'],
  ];
  await Promise.all(
    cases.map(async ([requested, answered]) => {
      const { client } = await started(t);
      const params = requested === undefined ? undefined : { protocolVersion: requested, capabilities: {}, clientInfo: { name: 't', version: '1' } };
      assert.deepEqual(await client.call('initialize', params), {
        protocolVersion: answered,
        capabilities: { tools: { listChanged: false }, resources: { subscribe: true, listChanged: false }, logging: {} },
        serverInfo: { name: packageJson.name, title: 'Codex Auth', version: packageJson.version },
      });
    }),
  );
});

test('requests need no initialize first (as codex); a second initialize is -32600 and changes nothing', async (t) => {
  const home = await tempHome();
  await home.writeAuth({ OPENAI_API_KEY: 'sk-env' });
  const { client } = await started(t, { home });
  assert.deepEqual(await client.call('getAuthStatus', {}), { authMethod: 'apikey', preferredAuthMethod: 'chatgpt' });
  // An `initialize` sent as a notification is not a request: it neither answers nor counts.
  client.notify('initialize', { protocolVersion: '2025-06-18' });
  await marker(client, 'm1');
  const first = await client.initialize('2024-11-05');
  assert.equal(first.protocolVersion, '2024-11-05');
  const second = await client.request('initialize', { protocolVersion: '2025-06-18' }, 'again');
  assert.deepEqual(second, { jsonrpc: '2.0', id: 'again', error: { code: -32600, message: 'initialize called more than once' } });
  assert.deepEqual(await client.call('ping'), {});
});

test('every method whose params are all optional answers without params, and with params: null', async (t) => {
  const { client } = await started(t);
  const expected: Record<string, unknown> = {
    ping: {},
    'resources/list': { resources: [{ uri: 'codex-auth://status', name: 'status', title: 'Sign-in status', description: 'Whether you are signed in to OpenAI / ChatGPT, how, and any problem with the stored credentials (no token or key).', mimeType: 'application/json' }] },
    'resources/templates/list': { resourceTemplates: [] },
    'prompts/list': { prompts: [] },
    getAuthStatus: { preferredAuthMethod: 'chatgpt' },
  };
  for (const [method, result] of Object.entries(expected)) {
    assert.deepEqual(await client.call(method), result, `${method} without params`);
    client.sendLine(JSON.stringify({ jsonrpc: '2.0', id: `${method}-null`, method, params: null }));
    assert.deepEqual((await client.waitFor((m) => m.id === `${method}-null`)).result, result, `${method} with params: null`);
  }
  const tools = await client.call('tools/list');
  assert.ok(Array.isArray(tools.tools));
  for (const tool of tools.tools) assert.equal(typeof tool.name, 'string');
  assert.deepEqual(await client.call('tools/list', null), tools);
});

test('getAuthStatus params: includeToken/refreshToken null read as unset (codex takes Option<bool>); unknown fields ignored', async (t) => {
  const home = await tempHome();
  await home.writeAuth({ OPENAI_API_KEY: 'sk-env' });
  const { client } = await started(t, { home });
  assert.deepEqual(await client.call('getAuthStatus', { includeToken: null, refreshToken: null }), { authMethod: 'apikey', preferredAuthMethod: 'chatgpt' });
  assert.deepEqual(await client.call('getAuthStatus', { includeToken: true, loginId: 'vestigial', extra: [1] }), {
    authMethod: 'apikey',
    preferredAuthMethod: 'chatgpt',
    authToken: 'sk-env',
  });
  assert.deepEqual(await client.call('getAuthStatus', { includeToken: false }), { authMethod: 'apikey', preferredAuthMethod: 'chatgpt' });
});

test('-32602 names the offending field; error responses echo the id of either type', async (t) => {
  const { client } = await started(t);
  const cases: [method: string, params: unknown, id: string | number, field: RegExp][] = [
    ['getAuthStatus', { includeToken: 'yes' }, 1, /includeToken/],
    ['getAuthStatus', { refreshToken: 1 }, 'two', /refreshToken/],
    ['getAuthStatus', [true], -3, /params/],
    ['cancelLoginChatGpt', {}, 'four', /loginId/],
    ['cancelLoginChatGpt', { loginId: 'not-a-uuid' }, 5, /loginId/],
    ['loginApiKey', { apiKey: 42 }, 'six', /apiKey/],
  ];
  for (const [method, params, id, field] of cases) {
    const response = await client.request(method, params, id);
    assert.equal(response.id, id);
    assert.equal(response.error?.code, -32602, `${method} ${JSON.stringify(params)}`);
    assert.match(response.error!.message, /^Invalid params: /);
    assert.match(response.error!.message, field);
  }
  const unknown = await client.request('getAuthStatusX', {}, 0);
  assert.deepEqual(unknown, { jsonrpc: '2.0', id: 0, error: { code: -32601, message: 'Method not found: getAuthStatusX' } });
});

test('-32603 when a handler fails: logout cannot remove an auth.json that is a directory', async (t) => {
  const home = await tempHome();
  await mkdir(join(home.path, 'auth.json'));
  const { client } = await started(t, { home });
  const status = await client.call('getAuthStatus');
  assert.equal(status.authError.code, 'auth_file_unreadable');
  const response = await client.request('logoutChatGpt', { revoke: false }, 'out');
  assert.equal(response.error?.code, -32603);
  assert.match(response.error!.message, /^Internal error: /);
  assert.deepEqual(await client.call('ping'), {}, 'still serving');
});

test('ids: the empty string, unicode, negative and the largest safe integer echo; larger integers are refused', async (t) => {
  const { client } = await started(t);
  for (const id of ['', '🔑 ключ', -42, Number.MAX_SAFE_INTEGER, -Number.MAX_SAFE_INTEGER]) {
    assert.equal((await client.request('ping', undefined, id)).id, id);
  }
  // Deliberate: the original echoes an i64 beyond 2^53 exactly; JSON.parse cannot, and echoing a
  // rounded id would answer a request the client never sent, so it is an invalid request.
  client.sendLine('{"jsonrpc":"2.0","id":9223372036854775807,"method":"ping"}');
  const refused = await client.waitFor((m) => m.error?.message === 'Invalid request: id must be a string or an integer');
  assert.deepEqual(refused, { jsonrpc: '2.0', id: null, error: { code: -32600, message: 'Invalid request: id must be a string or an integer' } });
});

test('notifications are never answered, whatever their method, params or jsonrpc', async (t) => {
  const { client } = await started(t);
  const before = client.stdoutLines.length;
  const lines = [
    { jsonrpc: '2.0', method: 'getAuthStatus', params: { includeToken: true } },
    { jsonrpc: '2.0', method: 'ping' },
    { jsonrpc: '2.0', method: 'cancelLoginChatGpt', params: { loginId: 'bad' } },
    { jsonrpc: '2.0', method: 'notifications/cancelled', params: { requestId: 'nothing' } },
    { jsonrpc: '2.0', method: 'notifications/initialized' },
    { jsonrpc: '2.0', method: 'notifications/progress', params: { progressToken: 1, progress: 1 } },
    { jsonrpc: '1.0', method: 'ping' },
    { method: 'ping' },
  ];
  for (const line of lines) client.send(line);
  await marker(client, 'after-notifications');
  assert.equal(client.stdoutLines.length, before + 1, client.stdoutLines.slice(before).join('\n'));
});

// Codex 0.171's rules, not 0.25's (see the README's differences): auth_mode decides; without it a
// stored key wins whatever the plan; the environment's OPENAI_API_KEY is no credential.
test('which credential is in force, over stdio (codex 0.171 rules)', async (t) => {
  const plus = await chatgptAuthRecord({ email: 'u@example.com', planType: 'plus', accountId: 'a' });
  const plusWithKey = await chatgptAuthRecord({ email: 'u@example.com', planType: 'plus', accountId: 'a' }, 'sk-file');
  const staffWithKey = await chatgptAuthRecord({ email: 'someone@openai.com', planType: 'enterprise', accountId: 'a' }, 'sk-file');
  type Case = [name: string, auth: unknown, env: Record<string, string>, args: string[], method: string | undefined, token: string | undefined];
  const cases: Case[] = [
    ['nothing at all', undefined, {}, [], undefined, undefined],
    ['OPENAI_API_KEY only: not a credential', undefined, { OPENAI_API_KEY: 'sk-env' }, [], undefined, undefined],
    ['a stored key', { OPENAI_API_KEY: 'sk-file' }, { OPENAI_API_KEY: 'sk-env' }, [], 'apikey', 'sk-file'],
    ['stored tokens, whatever is preferred', plus, { OPENAI_API_KEY: 'sk-env' }, ['-c', 'preferred_auth_method=apikey'], 'chatgpt', plus.tokens.access_token],
    ['key + tokens, plus plan: the key', plusWithKey, {}, [], 'apikey', 'sk-file'],
    ['key + tokens, an @openai.com email: the key', staffWithKey, {}, [], 'apikey', 'sk-file'],
    ['key + tokens, auth_mode chatgpt: the tokens', { ...plusWithKey, auth_mode: 'chatgpt' }, {}, [], 'chatgpt', plusWithKey.tokens.access_token],
    ['tokens, auth_mode apikey: signed out', { ...plus, auth_mode: 'apikey' }, {}, [], undefined, undefined],
    ['an unreadable auth.json', '{"OPENAI_API_KEY": ', { OPENAI_API_KEY: 'sk-env' }, [], undefined, undefined],
  ];
  await Promise.all(
    cases.map(async ([name, auth, env, args, method, token]) => {
      const home = await tempHome();
      if (auth !== undefined) await home.writeAuth(auth);
      const { client } = await started(t, { home, env, args });
      const status = await client.call('getAuthStatus', { includeToken: true });
      assert.equal(status.authMethod, method, name);
      assert.equal(status.authToken, token, name);
      assert.equal(status.preferredAuthMethod, args.length > 0 ? 'apikey' : 'chatgpt', name);
    }),
  );
});

test('-c before and after the subcommand both apply; a profile named in config.toml applies', async (t) => {
  const home = await tempHome();
  await home.writeConfig('profile = "keys"\n[profiles.keys]\npreferred_auth_method = "apikey"\n[profiles.other]\n');
  const fromFile = await started(t, { home });
  assert.equal((await fromFile.client.call('getAuthStatus')).preferredAuthMethod, 'apikey');
  // -c profile=other (before) picks a profile without the key; --config (after) sets it again.
  const both = await started(t, { home, args: ['-c', 'profile=other', 'mcp', '--config', 'preferred_auth_method=apikey'] });
  assert.equal((await both.client.call('getAuthStatus')).preferredAuthMethod, 'apikey');
  const otherOnly = await started(t, { home, args: ['-c', 'profile=other', 'serve'] });
  assert.equal((await otherOnly.client.call('getAuthStatus')).preferredAuthMethod, 'chatgpt');
});

test('config errors: exit 2 before serving (stdin still open), one stderr line naming what is wrong, nothing on stdout', async (t) => {
  const home = await tempHome();
  t.after(() => home.remove());
  const env = { CODEX_HOME: home.path };
  const cases: [args: string[], toml: string | undefined, expected: RegExp[]][] = [
    [['-c', 'preferred_auth_method'], undefined, [/invalid override 'preferred_auth_method': expected key=value/]],
    [['mcp', '-c', '=apikey'], undefined, [/invalid override '=apikey': the key is empty/]],
    [['-c', 'preferred_auth_method=both', 'serve'], undefined, [/-c preferred_auth_method=both/, /"chatgpt"/, /"apikey"/]],
    [['serve', '-c', 'login_callback_port=high'], undefined, [/-c login_callback_port=high: login_callback_port: /]],
    [[], 'model = "o3"\n\ncli_auth_credentials_store = "disk"\n', [/config\.toml:3:1: cli_auth_credentials_store: /, /"file"/, /"keyring"/, /"auto"/]],
    [['mcp'], '[profiles.x]\nrevoke_timeout_secs = "soon"\n', []], // only checked when the profile is used: no error
    [['-c', 'profile=x'], '[profiles.x]\nrevoke_timeout_secs = "soon"\n', [/config\.toml:2:1: profiles\.x\.revoke_timeout_secs: /]],
    [[], 'a = "unterminated\n', [new RegExp(`${home.path.replace(/[/.]/g, '\\$&')}/config\\.toml:1:\\d+: malformed TOML`)]],
    [['-c', 'profile=ghost'], '', [/profile 'ghost' not found/]],
  ];
  for (const [args, toml, expected] of cases) {
    if (toml !== undefined) await home.writeConfig(toml);
    if (expected.length === 0) {
      // A valid config: the server serves, and exits 0 when stdin closes.
      const ok = await runCli(args, env, '{"jsonrpc":"2.0","id":1,"method":"ping"}\n');
      assert.equal(ok.code, 0, ok.stderr);
      assert.equal(ok.stdout, '{"jsonrpc":"2.0","id":1,"result":{}}\n');
      continue;
    }
    const { code, stdout, stderr } = await runCli(args, env);
    assert.equal(code, 2, `${args.join(' ')}: ${stderr}`);
    assert.equal(stdout, '', 'stdout belongs to JSON-RPC');
    assert.equal(stderr.trim().split('\n').length, 1, stderr);
    assert.match(stderr, /^codex-auth-mcp: config error: /);
    for (const pattern of expected) assert.match(stderr, pattern, args.join(' '));
  }
});

test('--help and --version: exit 0, usage on stdout, the package version exactly', async () => {
  const help = await runCli(['--help']);
  assert.equal(help.code, 0);
  for (const text of ['Usage: codex-auth-mcp', 'serve|mcp', '-c, --config <key=value>', 'CODEX_HOME', 'CODEX_AUTH_MCP_LOG', '--version']) {
    assert.ok(help.stdout.includes(text), `--help mentions ${text}`);
  }
  const serveHelp = await runCli(['mcp', '--help']);
  assert.equal(serveHelp.code, 0);
  assert.match(serveHelp.stdout, /Usage: codex-auth-mcp serve\|mcp/);
  assert.match(serveHelp.stdout, /-c, --config/);
  for (const flag of ['--version', '-V']) {
    const version = await runCli([flag]);
    assert.equal(version.code, 0);
    assert.equal(version.stdout, `${packageJson.version}\n`);
  }
});

test('auth.json is written 0600, the default ~/.codex created 0700, and an existing looser file tightened', async (t) => {
  const home = await defaultHome();
  const { client } = await started(t, { home, env: home.env });
  assert.deepEqual(await client.call('loginApiKey', { apiKey: 'sk-written' }), {});
  assert.equal((await stat(home.path)).mode & 0o777, 0o700);
  assert.equal((await stat(home.authFile)).mode & 0o777, 0o600);
  assert.equal(JSON.parse(await readFile(home.authFile, 'utf8')).OPENAI_API_KEY, 'sk-written');

  const loose = await tempHome();
  await loose.writeAuth({ OPENAI_API_KEY: 'sk-old' }, 0o644);
  const second = await started(t, { home: loose });
  await second.client.call('loginApiKey', { apiKey: 'sk-new' });
  assert.equal((await stat(loose.authFile)).mode & 0o777, 0o600);
});

test('a default ~/.codex that does not exist is not created by serving, and is picked up once it appears', async (t) => {
  const home = await defaultHome();
  const { client } = await started(t, { home, env: home.env });
  await client.initialize();
  assert.deepEqual(await client.call('getAuthStatus'), { preferredAuthMethod: 'chatgpt' });
  await assert.rejects(stat(home.path), { code: 'ENOENT' }, 'reading never creates the directory');
  await mkdir(home.path, { mode: 0o700 });
  await writeFile(join(home.path, 'auth.json'), JSON.stringify({ OPENAI_API_KEY: 'sk-late' }));
  assert.deepEqual((await client.waitForNotification('codex/event/auth_status_change')).params, { authMethod: 'apikey' });
});

test('changes by another process: an atomic replace is noticed; only a change of method is announced', async (t) => {
  const { home, client } = await started(t);
  await client.initialize();
  // What the client has seen so far: signed out. Changes are announced relative to that.
  assert.deepEqual(await client.call('getAuthStatus'), { preferredAuthMethod: 'chatgpt' });
  const record = await chatgptAuthRecord();
  // Written the way codex or a sibling server writes: a temp file renamed over auth.json.
  const replace = async (content: unknown) => {
    const temp = join(home.path, `.auth.json.${process.pid}.tmp`);
    await writeFile(temp, JSON.stringify(content), { mode: 0o600 });
    await rename(temp, home.authFile);
  };
  await replace(record);
  assert.deepEqual((await client.waitForNotification('codex/event/auth_status_change', (p) => p.authMethod === 'chatgpt')).params, { authMethod: 'chatgpt' });
  await replace({ OPENAI_API_KEY: 'sk-one' });
  await client.waitForNotification('codex/event/auth_status_change', (p) => p.authMethod === 'apikey');
  // The same method with another key: the cache follows, nobody is told the method changed.
  await replace({ OPENAI_API_KEY: 'sk-two' });
  await eventually(async () => assert.equal((await client.call('getAuthStatus', { includeToken: true })).authToken, 'sk-two'));
  assert.deepEqual(
    client.notifications('codex/event/auth_status_change').map((n) => n.params),
    [{ authMethod: 'chatgpt' }, { authMethod: 'apikey' }],
  );
});

test('logoutChatGpt with no auth.json but OPENAI_API_KEY set: not an error, and signed out is announced (the env var is no credential)', async (t) => {
  const { home, client } = await started(t, { env: { OPENAI_API_KEY: 'sk-env' } });
  const response = await client.request('logoutChatGpt', undefined, 'bye');
  assert.ok(response.result, JSON.stringify(response));
  const change = await client.waitForNotification('codex/event/auth_status_change');
  assert.deepEqual(change.params, {});
  assert.ok(client.messages.indexOf(response) < client.messages.indexOf(change), 'response first, then the notification');
  await assert.rejects(stat(home.authFile), { code: 'ENOENT' });
});

test('debug logs go to stderr and hold no key or token', async (t) => {
  const home = await tempHome();
  const record = await chatgptAuthRecord({ email: 'u@example.com', planType: 'plus', accountId: 'acct-1' }, 'sk-file-secret-1');
  await home.writeAuth(record);
  const { client } = await started(t, { home, env: { OPENAI_API_KEY: 'sk-env-secret-2', CODEX_AUTH_MCP_LOG: 'debug' } });
  await client.initialize();
  await client.call('getAuthStatus', { includeToken: true });
  await client.call('loginApiKey', { apiKey: 'sk-new-secret-3' });
  await client.call('logoutChatGpt', { revoke: false });
  client.sendLine('{"jsonrpc":"2.0","id":"bad","method":"loginApiKey","params":{"apiKey":7,"note":"sk-param-secret-4"}}');
  await client.waitFor((m) => m.id === 'bad');
  const { code } = await client.close();
  assert.equal(code, 0);
  assert.ok(client.stderr.length > 0, 'debug logging wrote something');
  for (const secret of ['sk-file-secret-1', 'sk-env-secret-2', 'sk-new-secret-3', 'sk-param-secret-4', record.tokens.access_token, record.tokens.refresh_token]) {
    assert.ok(!client.stderr.includes(secret), `stderr must not contain ${secret.slice(0, 12)}…`);
  }
  for (const line of client.stderr.trim().split('\n')) assert.doesNotThrow(() => JSON.parse(line), line);
});

test('stdin EOF right after start-up: exit 0', async (t) => {
  const { client } = await started(t);
  const startedAt = Date.now();
  const { code, signal } = await client.close(15_000);
  assert.deepEqual({ code, signal }, { code: 0, signal: null });
  // Design target 2 s; the bound is loose because other tests share this machine.
  assert.ok(Date.now() - startedAt < 5_000, `took ${Date.now() - startedAt} ms`);
});

test('stdin EOF from a client that stopped reading stdout: the server still exits 0', async (t) => {
  const home = await tempHome();
  t.after(() => home.remove());
  const child = spawn(process.execPath, [serverEntry], { env: { PATH: process.env['PATH'], CODEX_HOME: home.path }, stdio: ['pipe', 'pipe', 'ignore'] });
  t.after(() => child.kill('SIGKILL'));
  child.stdout.pause(); // never read: the pipe fills, and the server sees back-pressure
  let lines = '';
  for (let i = 0; i < 500; i++) lines += `{"jsonrpc":"2.0","id":${i},"method":"tools/list"}\n`;
  child.stdin.end(lines);
  const killer = setTimeout(() => child.kill('SIGKILL'), 15_000);
  const [code, signal] = await once(child, 'exit');
  clearTimeout(killer);
  assert.deepEqual({ code, signal }, { code: 0, signal: null }, 'it neither hangs nor has to be killed');
});
