/**
 * The same request scripts against ours and the original Rust `codex mcp` (@openai/codex 0.25.0).
 * Where the original answers, the answers must match. Where it drops a request (it never answers
 * unknown methods, bad params, resources/list, prompts/list or unparsable lines), we assert our
 * better answer instead, and say so.
 */
import assert from 'node:assert/strict';
import { access, constants } from 'node:fs/promises';
import { test } from 'node:test';
import { originalCodexBinary } from './support/paths.js';
import { spawnServer, type RpcClient } from './support/rpc-client.js';
import { tempHome } from './support/temp-home.js';
import { chatgptAuthRecord } from './support/tokens.js';

type Seed = { auth?: unknown; env?: Record<string, string>; args?: string[] };

async function bothServers(t: { after(fn: () => unknown): void }, seed: Seed = {}) {
  await access(originalCodexBinary, constants.X_OK); // missing binary: the test fails, never skips
  const clients: Record<'ours' | 'original', RpcClient> = {} as never;
  for (const which of ['ours', 'original'] as const) {
    const home = await tempHome();
    if (seed.auth !== undefined) await home.writeAuth(seed.auth);
    const client = spawnServer({
      codexHome: home.path,
      original: which === 'original',
      env: { OPENAI_API_KEY: undefined, RUST_LOG: 'error', ...seed.env },
      ...(seed.args && { args: seed.args }),
    });
    t.after(async () => {
      client.kill();
      await client.exited;
      await home.remove();
    });
    clients[which] = client;
  }
  return clients;
}

/** Sends one request to both and returns both responses without their ids. */
async function ask(clients: Record<'ours' | 'original', RpcClient>, method: string, params?: unknown) {
  const [ours, original] = await Promise.all([clients.ours.request(method, params), clients.original.request(method, params)]);
  const strip = ({ id: _id, jsonrpc: _v, ...rest }: Record<string, unknown>) => rest;
  return { ours: strip(ours as never), original: strip(original as never) };
}

/** True when the original wrote no answer for `id` (a later ping is answered first: it is sequential). */
async function originalDrops(client: RpcClient, line: string, id: unknown): Promise<boolean> {
  client.sendLine(line);
  await client.request('ping', undefined, `after-${String(id)}`);
  return !client.messages.some((m) => m.id === id && m.method === undefined);
}

const statusCases: [string, Seed][] = [
  ['signed out', {}],
  ['API key in the environment', { env: { OPENAI_API_KEY: 'sk-env' } }],
  ['API key in auth.json', { auth: { OPENAI_API_KEY: 'sk-file' }, env: { OPENAI_API_KEY: 'sk-env' } }],
  ['preferred apikey with a key only', { auth: { OPENAI_API_KEY: 'sk-file' }, args: ['-c', 'preferred_auth_method=apikey'] }],
];

for (const [name, seed] of statusCases) {
  test(`getAuthStatus matches the original: ${name}`, async (t) => {
    const clients = await bothServers(t, seed);
    for (const params of [{}, { includeToken: true }, { includeToken: false, refreshToken: false }]) {
      const { ours, original } = await ask(clients, 'getAuthStatus', params);
      assert.deepEqual(ours, original, JSON.stringify(params));
    }
  });
}

test('getAuthStatus matches the original for ChatGPT tokens, with and without a stored key, per plan', async (t) => {
  for (const plan of ['plus', 'pro', 'team', 'free', 'enterprise', 'business', 'edu']) {
    for (const key of [null, 'sk-exchanged']) {
      const record = await chatgptAuthRecord({ email: 'u@example.com', planType: plan, accountId: 'acct' }, key);
      const clients = await bothServers(t, { auth: record });
      const { ours, original } = await ask(clients, 'getAuthStatus', { includeToken: true });
      assert.deepEqual(ours, original, `plan ${plan}, key ${key}`);
      clients.ours.kill();
      clients.original.kill();
    }
  }
});

test('logoutChatGpt matches: {} and then auth_status_change with what is still in force', async (t) => {
  const clients = await bothServers(t, { auth: { OPENAI_API_KEY: 'sk-file' }, env: { OPENAI_API_KEY: 'sk-env' } });
  const { ours, original } = await ask(clients, 'logoutChatGpt');
  // Deliberate: we add `revoked` (what logout did at the issuer); a client expecting {} ignores it.
  assert.deepEqual(ours, { result: { revoked: false } });
  assert.deepEqual(original, { result: {} });
  const [a, b] = await Promise.all([
    clients.ours.waitForNotification('codex/event/auth_status_change'),
    clients.original.waitForNotification('codex/event/auth_status_change'),
  ]);
  assert.deepEqual(a.params, b.params);
  assert.deepEqual(a.params, { authMethod: 'apikey' });
  const after = await ask(clients, 'getAuthStatus', { includeToken: true });
  assert.deepEqual(after.ours, after.original);
});

test('ping, a second initialize and an unknown login id match', async (t) => {
  const clients = await bothServers(t);
  const init = await ask(clients, 'initialize', { protocolVersion: '2025-03-26', capabilities: {}, clientInfo: { name: 't', version: '1' } });
  assert.equal((init.ours as any).result.protocolVersion, (init.original as any).result.protocolVersion);
  // Deliberate: we name ourselves, and our tool list is fixed (listChanged false).
  assert.equal((init.original as any).result.serverInfo.name, 'codex-mcp-server');
  assert.equal((init.ours as any).result.serverInfo.name, 'codex-auth-mcp');
  const ping = await ask(clients, 'ping');
  assert.deepEqual(ping.ours, ping.original);
  const second = await ask(clients, 'initialize', { protocolVersion: '2025-03-26', capabilities: {}, clientInfo: { name: 't', version: '1' } });
  assert.deepEqual(second.ours, second.original);
  const cancel = await ask(clients, 'cancelLoginChatGpt', { loginId: '00000000-0000-4000-8000-000000000000' });
  assert.deepEqual(cancel.ours, cancel.original);
});

test('where the original drops a request, we answer it (deliberate difference)', async (t) => {
  const clients = await bothServers(t);
  const cases: [string, number, string][] = [
    ['{"jsonrpc":"2.0","id":101,"method":"noSuchMethod"}', 101, 'unknown method: -32601 instead of silence'],
    ['{"jsonrpc":"2.0","id":102,"method":"getAuthStatus"}', 102, 'missing params read as {} instead of silence'],
    ['{"jsonrpc":"2.0","id":103,"method":"cancelLoginChatGpt","params":{"loginId":"nope"}}', 103, 'bad params: -32602'],
    ['{"jsonrpc":"2.0","id":104,"method":"resources/list"}', 104, 'resources/list: an empty list'],
    ['{"jsonrpc":"2.0","id":105,"method":"prompts/list"}', 105, 'prompts/list: an empty list'],
  ];
  for (const [line, id, why] of cases) {
    assert.equal(await originalDrops(clients.original, line, id), true, `the original answers ${why}?`);
    clients.ours.sendLine(line);
    const ours = await clients.ours.waitFor((m) => m.id === id);
    assert.ok('result' in ours || 'error' in ours, why);
  }
  assert.equal((await clients.ours.waitFor((m) => m.id === 101)).error!.code, -32601);
  assert.deepEqual((await clients.ours.waitFor((m) => m.id === 102)).result, { preferredAuthMethod: 'chatgpt' });
  assert.equal((await clients.ours.waitFor((m) => m.id === 103)).error!.code, -32602);
  // An unparsable line: the original only logs; JSON-RPC asks for -32700.
  assert.equal(await originalDrops(clients.original, '{oops', 'parse'), true);
  clients.ours.sendLine('{oops');
  assert.equal((await clients.ours.waitFor((m) => m.error?.code === -32700)).id, null);
});
