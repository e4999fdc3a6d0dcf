/** The built server over stdio, as an MCP client sees it: lifecycle, errors, auth status and logout. */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { stat, writeFile, rm } from 'node:fs/promises';
import { test } from 'node:test';
import { serverEntry } from './support/paths.js';
import type { RpcClient } from '../dev/rpc-client.js';
import { spawnServer } from './support/spawn-server.js';
import { defaultHome, tempHome, type TempHome } from './support/temp-home.js';
import { chatgptAuthRecord } from '../dev/jwt.js';

async function started(t: { after(fn: () => unknown): void }, options: { env?: Record<string, string | undefined>; args?: string[]; home?: TempHome } = {}) {
  const home = options.home ?? (await tempHome());
  const client = spawnServer({ codexHome: home.path, ...options });
  t.after(async () => {
    client.kill();
    await client.exited;
    await home.remove();
  });
  return { home, client };
}

test('initialize negotiates the protocol version and is accepted once', async (t) => {
  const { client } = await started(t);
  const result = await client.call('initialize', { protocolVersion: '2025-03-26', capabilities: {}, clientInfo: { name: 'x', version: '1' } });
  assert.equal(result.protocolVersion, '2025-03-26');
  assert.equal(result.serverInfo.name, 'codex-auth-mcp');
  assert.ok(result.serverInfo.version);
  assert.ok(result.capabilities.tools);
  const again = await client.request('initialize', { protocolVersion: '2025-06-18' });
  assert.deepEqual(again.error, { code: -32600, message: 'initialize called more than once' });
});

test('an unknown protocol version is answered with our latest', async (t) => {
  const { client } = await started(t);
  const result = await client.call('initialize', { protocolVersion: '1999-01-01' });
  assert.equal(result.protocolVersion, '2025-11-25');
});

test('ping, tools/list, resources/list and prompts/list answer', async (t) => {
  const { client } = await started(t);
  await client.initialize();
  assert.deepEqual(await client.call('ping'), {});
  assert.ok(Array.isArray((await client.call('tools/list')).tools));
  assert.deepEqual((await client.call('resources/list')).resources.map((r: { uri: string }) => r.uri), ['codex-auth://status']);
  assert.deepEqual(await client.call('prompts/list'), { prompts: [] });
});

test('JSON-RPC errors: parse, invalid request, unknown method, invalid params', async (t) => {
  const { client } = await started(t);
  client.sendLine('{"jsonrpc":"2.0","id":1,"method":');
  const parse = await client.waitFor((m) => m.error?.code === -32700);
  assert.equal(parse.id, null);

  client.sendLine('[{"jsonrpc":"2.0","id":2,"method":"ping"}]');
  assert.equal((await client.waitFor((m) => m.error?.code === -32600 && m.id === null)).error!.message, 'Invalid request: batches are not supported');

  client.sendLine('{"jsonrpc":"2.0","id":3}');
  assert.equal((await client.waitFor((m) => m.id === 3)).error!.code, -32600);

  client.sendLine('{"jsonrpc":"1.0","id":4,"method":"ping"}');
  assert.equal((await client.waitFor((m) => m.id === 4)).error!.code, -32600);

  client.sendLine('{"jsonrpc":"2.0","id":1.5,"method":"ping"}');
  const floatId = await client.waitFor((m) => m.error?.code === -32600 && m.error.message.includes('id must be'));
  // Not an MCP id, but a valid JSON-RPC one, echoed exactly (issue 26, docs/wire-bounds.md).
  assert.equal(floatId.id, 1.5);

  const unknown = await client.request('noSuchMethod', {}, 'u-1');
  assert.deepEqual(unknown.error, { code: -32601, message: 'Method not found: noSuchMethod' });
  assert.equal(unknown.id, 'u-1');

  const badParams = await client.request('getAuthStatus', { includeToken: 'yes' });
  assert.equal(badParams.error!.code, -32602);
  assert.match(badParams.error!.message, /includeToken/);
  assert.deepEqual(await client.call('ping'), {}, 'still serving');
});

test('ids are echoed exactly; notifications are never answered', async (t) => {
  const { client } = await started(t);
  assert.equal((await client.request('ping', undefined, 'abc-é')).id, 'abc-é');
  assert.equal((await client.request('ping', undefined, 0)).id, 0);
  assert.equal((await client.request('ping', undefined, 9007199254740991)).id, 9007199254740991);
  const before = client.stdoutLines.length;
  client.notify('notifications/initialized');
  client.notify('no/such/notification', { x: 1 });
  client.sendLine('{"jsonrpc":"2.0","method":"getAuthStatus"}');
  // A request after the notifications: once it is answered, anything they caused would have been written.
  await client.request('ping', undefined, 'marker');
  assert.equal(client.stdoutLines.length, before + 1);
});

test('getAuthStatus: signed out, also with an API key in the environment', async (t) => {
  const signedOut = await started(t);
  assert.deepEqual(await signedOut.client.call('getAuthStatus', { includeToken: true }), { preferredAuthMethod: 'chatgpt' });

  // As Codex 0.171 (0.25 answered apikey): OPENAI_API_KEY in the environment is no credential.
  const withEnv = await started(t, { env: { OPENAI_API_KEY: 'sk-env-test' } });
  assert.deepEqual(await withEnv.client.call('getAuthStatus', { includeToken: true }), { preferredAuthMethod: 'chatgpt' });
});

test('getAuthStatus: ChatGPT tokens give chatgpt and the access token', async (t) => {
  const home = await tempHome();
  const record = await chatgptAuthRecord();
  await home.writeAuth(record);
  const { client } = await started(t, { home, args: ['-c', 'preferred_auth_method=apikey'] });
  assert.deepEqual(await client.call('getAuthStatus', { includeToken: true, refreshToken: false }), {
    authMethod: 'chatgpt',
    preferredAuthMethod: 'apikey',
    authToken: record.tokens.access_token,
  });
});

test('getAuthStatus: a corrupt auth.json is reported, not read as signed out silently', async (t) => {
  const home = await tempHome();
  await home.writeAuth('{"OPENAI_API_KEY": ');
  const { client } = await started(t, { home, env: { OPENAI_API_KEY: 'sk-env' } });
  const status = await client.call('getAuthStatus', { includeToken: true });
  // The original answers {preferredAuthMethod} alone here; we add why the file cannot be used.
  assert.equal(status.authMethod, undefined);
  assert.equal(status.authToken, undefined);
  assert.equal(status.authError.code, 'auth_file_unreadable');
});

test('logoutChatGpt removes auth.json and announces signed out (the env var is no credential)', async (t) => {
  const home = await tempHome();
  await home.writeAuth(await chatgptAuthRecord());
  const { client } = await started(t, { home, env: { OPENAI_API_KEY: 'sk-env' } });
  assert.equal((await client.call('getAuthStatus')).authMethod, 'chatgpt');
  // revoke:false keeps this test offline; revocation has its own tests.
  const response = await client.request('logoutChatGpt', { revoke: false }, 'out');
  assert.deepEqual(response.result, { revoked: false });
  const change = await client.waitForNotification('codex/event/auth_status_change');
  assert.deepEqual(change.params, {});
  assert.ok(client.messages.indexOf(response) < client.messages.indexOf(change), 'the response comes first');
  await assert.rejects(stat(home.authFile), { code: 'ENOENT' });
  assert.equal((await client.call('getAuthStatus')).authMethod, undefined);
});

test('logoutChatGpt when signed out is not an error and announces no method', async (t) => {
  const { client } = await started(t);
  assert.deepEqual(await client.call('logoutChatGpt', { unexpected: true }), { revoked: false });
  assert.deepEqual((await client.waitForNotification('codex/event/auth_status_change')).params, {});
});

test('a change made by another process is noticed and announced', async (t) => {
  const { home, client } = await started(t);
  await client.initialize();
  assert.equal((await client.call('getAuthStatus')).authMethod, undefined);
  await home.writeAuth({ OPENAI_API_KEY: 'sk-from-terminal' });
  assert.deepEqual((await client.waitForNotification('codex/event/auth_status_change')).params, { authMethod: 'apikey' });
  assert.equal((await client.call('getAuthStatus')).authMethod, 'apikey');
  await rm(home.authFile);
  assert.deepEqual((await client.waitForNotification('codex/event/auth_status_change', (p) => !p.authMethod)).params, {});
});

test('a default ~/.codex created after start-up is watched once it appears', async (t) => {
  const home = await defaultHome();
  const { client } = await started(t, { home, env: home.env });
  assert.equal((await client.call('getAuthStatus')).authMethod, undefined);
  await home.writeAuth({ OPENAI_API_KEY: 'sk-late' });
  assert.deepEqual((await client.waitForNotification('codex/event/auth_status_change')).params, { authMethod: 'apikey' });
});

test('stdin EOF: in-flight responses are written and the process exits 0', async (t) => {
  const { client } = await started(t);
  client.send({ jsonrpc: '2.0', id: 'last', method: 'getAuthStatus', params: {} });
  const startedAt = Date.now();
  const { code } = await client.close();
  assert.equal(code, 0);
  assert.ok(client.messages.some((m) => m.id === 'last'), 'the last request was answered');
  // The target is 2 s; the bound here is looser so a loaded CI machine does not flake.
  assert.ok(Date.now() - startedAt < 5_000);
});

test('stdin EOF while the first validation runs: the server exits 0 and logs nothing', async (t) => {
  // Shutting the token service down while its first task is in flight made Piscina report the
  // task's late reply as an error, logged as a thread that "failed to start" (1 start in 6 here).
  // Sixteen at once, each closed right after its first request, hit that window in nearly every run.
  // Each has an auth.json, so its first validation is a token-service task (with none, the main
  // thread answers it and no thread starts: auth/nothing-stored.ts).
  const homes = await Promise.all(
    Array.from({ length: 16 }, async () => {
      const home = await tempHome();
      await home.writeAuth({ OPENAI_API_KEY: 'sk-eof-test' });
      return home;
    }),
  );
  const runs = await Promise.all(homes.map((home) => started(t, { home })));
  const ends = await Promise.all(
    runs.map(async ({ client }) => {
      client.send({ jsonrpc: '2.0', id: 1, method: 'ping' });
      return { ...(await client.close()), stderr: client.stderr };
    }),
  );
  assert.deepEqual(ends, ends.map(() => ({ code: 0, signal: null, stderr: '' })));
});

test('config errors stop the server before it serves, with exit code 2 and one message', async (t) => {
  const home = await tempHome();
  t.after(() => home.remove());
  const run = async (args: string[]) => {
    const child = spawn(process.execPath, [serverEntry, ...args], { env: { ...process.env, CODEX_HOME: home.path } });
    let stderr = '';
    child.stderr.on('data', (chunk) => (stderr += chunk));
    let stdout = '';
    child.stdout.on('data', (chunk) => (stdout += chunk));
    const [code] = await once(child, 'exit');
    return { code, stderr, stdout };
  };
  const noEquals = await run(['-c', 'preferred_auth_method']);
  assert.equal(noEquals.code, 2);
  assert.match(noEquals.stderr, /expected key=value/);
  assert.equal(noEquals.stdout, '');

  const badEnum = await run(['serve', '-c', 'preferred_auth_method=both']);
  assert.equal(badEnum.code, 2);
  assert.match(badEnum.stderr, /preferred_auth_method/);
  assert.match(badEnum.stderr, /"chatgpt"/);

  await writeFile(`${home.path}/config.toml`, 'x = 1\nlogin_timeout_secs = "soon"\n');
  const badFile = await run(['mcp']);
  assert.equal(badFile.code, 2);
  assert.ok(badFile.stderr.includes(`${home.path}/config.toml:2:1`), badFile.stderr);
  assert.match(badFile.stderr, /login_timeout_secs/);

  await writeFile(`${home.path}/config.toml`, '[broken\n');
  const malformed = await run([]);
  assert.equal(malformed.code, 2);
  assert.match(malformed.stderr, /config\.toml:1:\d+: malformed TOML/);

  await writeFile(`${home.path}/config.toml`, '');
  const noProfile = await run(['-c', 'profile=ghost', 'serve']);
  assert.equal(noProfile.code, 2);
  assert.match(noProfile.stderr, /profile 'ghost' not found/);
});

test('-c works before and after the subcommand, and profiles apply', async (t) => {
  const home = await tempHome();
  await home.writeConfig('[profiles.keys]\npreferred_auth_method = "apikey"\n');
  const before = await started(t, { home, args: ['-c', 'profile=keys', 'mcp'] });
  assert.equal((await before.client.call('getAuthStatus')).preferredAuthMethod, 'apikey');
  const after = spawnServer({ codexHome: home.path, args: ['serve', '--config', 'preferred_auth_method=apikey'] });
  t.after(() => after.kill());
  assert.equal((await after.call('getAuthStatus')).preferredAuthMethod, 'apikey');
});

test('--help and --version print and exit 0', async () => {
  const run = async (flag: string) => {
    const child = spawn(process.execPath, [serverEntry, flag]);
    let stdout = '';
    child.stdout.on('data', (chunk) => (stdout += chunk));
    const [code] = await once(child, 'exit');
    return { code, stdout };
  };
  const help = await run('--help');
  assert.equal(help.code, 0);
  assert.match(help.stdout, /serve/);
  assert.match(help.stdout, /-c, --config/);
  const version = await run('--version');
  assert.equal(version.code, 0);
  assert.match(version.stdout, /^\d+\.\d+\.\d+/);
});

export type { RpcClient };
