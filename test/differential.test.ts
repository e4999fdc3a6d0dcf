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
import type { RpcClient } from '../dev/rpc-client.js';
import { spawnServer } from './support/spawn-server.js';
import { tempHome } from './support/temp-home.js';
import { chatgptAuthRecord } from '../dev/jwt.js';

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

// Deliberate (as Codex 0.171, checked in test/codex-0171.test.ts): a stored key wins over tokens
// whatever the plan, and OPENAI_API_KEY in the environment is no credential; 0.25 chose by plan
// and fell back to the environment. Without a stored key both agree for every plan.
test('getAuthStatus for ChatGPT tokens per plan: the same as the original without a stored key; with one, the key (0.171)', async (t) => {
  for (const plan of ['plus', 'pro', 'team', 'free', 'enterprise', 'business', 'edu']) {
    for (const key of [null, 'sk-exchanged']) {
      const record = await chatgptAuthRecord({ email: 'u@example.com', planType: plan, accountId: 'acct' }, key);
      const clients = await bothServers(t, { auth: record });
      const { ours, original } = await ask(clients, 'getAuthStatus', { includeToken: true });
      if (key === null) assert.deepEqual(ours, original, `plan ${plan}`);
      else assert.deepEqual(ours, { result: { authMethod: 'apikey', authToken: key, preferredAuthMethod: 'chatgpt' } }, `plan ${plan}, key ${key}`);
      clients.ours.kill();
      clients.original.kill();
    }
  }
});

test('the environment key: 0.25 answers apikey, we answer signed out as 0.171 does', async (t) => {
  const clients = await bothServers(t, { env: { OPENAI_API_KEY: 'sk-env' } });
  const { ours, original } = await ask(clients, 'getAuthStatus', { includeToken: true });
  assert.deepEqual(original, { result: { authMethod: 'apikey', authToken: 'sk-env', preferredAuthMethod: 'chatgpt' } });
  assert.deepEqual(ours, { result: { preferredAuthMethod: 'chatgpt' } });
});

test('logoutChatGpt matches: {} and then auth_status_change with what is still in force', async (t) => {
  const clients = await bothServers(t, { auth: { OPENAI_API_KEY: 'sk-file' } });
  const { ours, original } = await ask(clients, 'logoutChatGpt');
  // Deliberate: we add `revoked` (what logout did at the issuer); a client expecting {} ignores it.
  assert.deepEqual(ours, { result: { revoked: false } });
  assert.deepEqual(original, { result: {} });
  const [a, b] = await Promise.all([
    clients.ours.waitForNotification('codex/event/auth_status_change'),
    clients.original.waitForNotification('codex/event/auth_status_change'),
  ]);
  assert.deepEqual(a.params, b.params);
  assert.deepEqual(a.params, {});
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

/** Both answers without ids; ours may add authError, and only where the original reports no method. */
function sameModuloAuthError(ours: any, original: any, what: string) {
  if (ours.result?.authError) {
    assert.equal(original.result?.authMethod, undefined, `${what}: we report authError where the original has a method`);
    assert.equal(ours.result.authMethod, undefined, what);
    const { authError: _reported, ...rest } = ours.result;
    assert.deepEqual({ ...ours, result: rest }, original, what);
  } else {
    assert.deepEqual(ours, original, what);
  }
}

const methodOf = (answer: Record<string, unknown>) => (answer['result'] as { authMethod?: string } | undefined)?.authMethod ?? null;

/** Runs `fn` over `items`, a few at a time (each case is two processes; the machine is shared). */
async function inBatches<T>(items: T[], size: number, fn: (item: T) => Promise<void>) {
  for (let i = 0; i < items.length; i += size) await Promise.all(items.slice(i, i + size).map(fn));
}

test('mode resolution matches the original on edge-case records (ours adds authError where it reads signed out)', async (t) => {
  const b64 = (value: unknown) => Buffer.from(typeof value === 'string' ? value : JSON.stringify(value)).toString('base64url');
  const A = 'https://api.openai.com/auth';
  const exp = Math.floor(Date.now() / 1000) + 3600;
  const jwt = (claims: Record<string, unknown>, signature = 'c2ln') => `${b64({ alg: 'none' })}.${b64({ exp, ...claims })}.${signature}`;
  const now = new Date();
  const tokens = (claims: Record<string, unknown>) => ({ id_token: jwt(claims), access_token: jwt(claims), refresh_token: 'rt' });
  const record = (claims: Record<string, unknown>, key: string | null = 'sk-file', extra: Record<string, unknown> = { last_refresh: now.toISOString() }) => ({
    OPENAI_API_KEY: key,
    tokens: tokens(claims),
    ...extra,
  });
  const padded = Buffer.from(JSON.stringify({ email: 'ab@x.co', exp })).toString('base64').replace(/\+/g, '-').replace(/\//g, '_');
  const cases: [string, unknown][] = [
    ['plan "Plus" (case-sensitive in 0.25)', record({ email: 'u@x.com', [A]: { chatgpt_plan_type: 'Plus' } })],
    ['plan "go" (unknown to 0.25)', record({ email: 'u@x.com', [A]: { chatgpt_plan_type: 'go' } })],
    ['no plan claim', record({ email: 'u@x.com' })],
    ['plan and email null', record({ email: null, [A]: { chatgpt_plan_type: null } })],
    ['auth claim null', record({ email: 'u@x.com', [A]: null })],
    ['openai email only in the profile claim', record({ 'https://api.openai.com/profile': { email: 'u@openai.com' }, [A]: { chatgpt_plan_type: 'enterprise' } })],
    ['openai email with case and spaces', record({ email: ' U@OpenAI.com ', [A]: { chatgpt_plan_type: 'enterprise' } })],
    ['pro plan without email', record({ [A]: { chatgpt_plan_type: 'pro' } })],
    ['tokens without last_refresh', record({ email: 'u@x.com', [A]: { chatgpt_plan_type: 'plus' } }, null, {})],
    ['tokens with last_refresh null', record({ email: 'u@x.com' }, null, { last_refresh: null })],
    ['key, tokens: null, last_refresh: null', { OPENAI_API_KEY: 'sk-file', tokens: null, last_refresh: null }],
    ['an empty key alone', { OPENAI_API_KEY: '' }],
    ['an empty key winning over tokens', record({ email: 'u@x.com', [A]: { chatgpt_plan_type: 'enterprise' } }, '')],
    ['an empty key losing to tokens', record({ email: 'u@x.com', [A]: { chatgpt_plan_type: 'plus' } }, '')],
    ['a key of spaces', { OPENAI_API_KEY: '  ' }],
    ['an empty access token', { OPENAI_API_KEY: null, tokens: { ...tokens({ email: 'u@x.com' }), access_token: '' }, last_refresh: now.toISOString() }],
    ['an opaque access token', { OPENAI_API_KEY: null, tokens: { ...tokens({ email: 'u@x.com' }), access_token: 'opaque' }, last_refresh: now.toISOString() }],
    ['last_refresh with an offset', record({ email: 'u@x.com' }, null, { last_refresh: new Date(now.getTime() + 2 * 3600_000).toISOString().replace('Z', '+02:00') })],
    ['last_refresh with a space', record({ email: 'u@x.com' }, null, { last_refresh: now.toISOString().replace('T', ' ') })],
    ['last_refresh without a zone', record({ email: 'u@x.com' }, null, { last_refresh: now.toISOString().replace('Z', '') })],
    ['last_refresh not a date', { OPENAI_API_KEY: 'sk-file', last_refresh: 'yesterday' }],
    ['id_token with an empty signature', { ...record({}, null), tokens: { ...tokens({}), id_token: jwt({ email: 'u@x.com' }, '') } }],
    ['id_token padded', { ...record({}, null), tokens: { ...tokens({}), id_token: `${b64({ alg: 'none' })}.${padded}.c2ln` } }],
    ['id_token of two parts', { ...record({}, null), tokens: { ...tokens({}), id_token: `${b64({ alg: 'none' })}.${b64({ email: 'u@x.com' })}` } }],
    ['id_token of four parts', { ...record({}, null), tokens: { ...tokens({}), id_token: `${jwt({ email: 'u@x.com' })}.extra` } }],
    ['id_token email a number', record({ email: 5, [A]: { chatgpt_plan_type: 'pro' } })],
    ['id_token plan a number', record({ email: 'u@x.com', [A]: { chatgpt_plan_type: 5 } })],
    ['id_token auth claim a string', record({ email: 'u@x.com', [A]: 'pro' })],
    ['unknown fields kept out of the way', { OPENAI_API_KEY: 'sk-file', auth_mode: 'chatgpt', extra: { a: 1 } }],
    ['{}', {}],
    ['an empty file', ''],
    ['JSON null', 'null'],
    ['an array', '[]'],
    ['a numeric key', { OPENAI_API_KEY: 42 }],
  ];
  const differs: string[] = [];
  await inBatches(cases, 4, async ([name, auth]) => {
    const clients = await bothServers(t, { auth, env: { OPENAI_API_KEY: 'sk-env' } });
    const { ours, original } = await ask(clients, 'getAuthStatus', { includeToken: true });
    if (name in FOLLOWS_0171) {
      differs.push(name);
      assert.notDeepEqual(methodOf(ours), methodOf(original), `${name}: listed as a difference, so it must differ`);
    } else sameModuloAuthError(ours, original, name);
    clients.ours.kill();
    clients.original.kill();
  });
  assert.deepEqual(differs.sort(), Object.keys(FOLLOWS_0171).sort());
});

/**
 * Records on which we answer as Codex 0.171 does, not as 0.25 (test/codex-0171.test.ts checks
 * those answers against 0.171 itself; the README lists the differences): 0.171 lets a stored key
 * win over tokens whatever the plan or email, and reads the environment's key as no credential.
 */
const FOLLOWS_0171: Record<string, string> = {
  'pro plan without email': 'a stored key wins over tokens whatever the plan (0.25: pro meant chatgpt)',
  'openai email with case and spaces': 'a stored key wins over tokens whatever the email (0.25: an @openai.com email meant chatgpt)',
  'an empty key losing to tokens': 'an empty key still wins over tokens, and hands out no bearer (0.25: a plus plan meant chatgpt)',
  'unknown fields kept out of the way': 'auth_mode "chatgpt" with no tokens is signed out (0.25 ignored auth_mode: apikey)',
};

test('dispatch details where both answer, and answer alike', async (t) => {
  const clients = await bothServers(t, { auth: { OPENAI_API_KEY: 'sk-env' } });
  const lines: [string, string | number][] = [
    ['{"id":"no-jsonrpc","method":"ping"}', 'no-jsonrpc'],
    ['{"jsonrpc":"2.0","id":"","method":"ping"}', ''],
    ['{"jsonrpc":"2.0","id":-7,"method":"ping","params":[1]}', -7],
    ['{"jsonrpc":"2.0","id":"null-flags","method":"getAuthStatus","params":{"includeToken":null,"refreshToken":null}}', 'null-flags'],
    ['{"jsonrpc":"2.0","id":"extra","method":"getAuthStatus","params":{"includeToken":true,"loginId":"x"},"extra":1}', 'extra'],
    ['{"jsonrpc":"2.0","id":"🔑","method":"getAuthStatus","params":{}}', '🔑'],
  ];
  for (const [line, id] of lines) {
    clients.ours.sendLine(line);
    clients.original.sendLine(line);
    const [ours, original] = await Promise.all([clients.ours.waitFor((m) => m.id === id), clients.original.waitFor((m) => m.id === id)]);
    assert.deepEqual(ours, original, line);
  }
  // logoutChatGpt ignores its params in both (an array, null); both then announce the env key.
  for (const params of ['[1,2]', 'null']) {
    const line = `{"jsonrpc":"2.0","id":"out-${params}","method":"logoutChatGpt","params":${params}}`;
    clients.ours.sendLine(line);
    clients.original.sendLine(line);
    const [ours, original] = await Promise.all([clients.ours.waitFor((m) => m.id === `out-${params}`), clients.original.waitFor((m) => m.id === `out-${params}`)]);
    // Deliberate: we add `revoked` (see the logout test above).
    assert.deepEqual(original.result, {});
    assert.deepEqual(ours.result, { revoked: false });
  }
  const count = (client: RpcClient) => client.notifications('codex/event/auth_status_change').map((n) => n.params);
  await Promise.all([clients.ours.request('ping', undefined, 'sync'), clients.original.request('ping', undefined, 'sync')]);
  assert.deepEqual(count(clients.ours), count(clients.original));
  assert.deepEqual(count(clients.ours), [{}, {}]);
});

test('more requests the original drops or answers wrongly, and our answer (deliberate differences)', async (t) => {
  const clients = await bothServers(t);
  // Dropped by the original (no answer at all); answered by us.
  const dropped: [line: string, id: unknown, check: (m: any) => void][] = [
    ['{"jsonrpc":"2.0","id":201,"method":"getAuthStatus","params":null}', 201, (m) => assert.deepEqual(m.result, { preferredAuthMethod: 'chatgpt' })],
    ['{"jsonrpc":"2.0","id":202,"method":"getAuthStatus","params":[]}', 202, (m) => assert.equal(m.error.code, -32602)],
    ['{"jsonrpc":"2.0","id":203,"method":"getAuthStatus","params":{"includeToken":"yes"}}', 203, (m) => assert.match(m.error.message, /includeToken/)],
    ['{"jsonrpc":"2.0","id":204,"method":"cancelLoginChatGpt"}', 204, (m) => assert.match(m.error.message, /loginId/)],
    ['{"jsonrpc":"2.0","id":205,"method":"resources/templates/list"}', 205, (m) => assert.deepEqual(m.result, { resourceTemplates: [] })],
  ];
  for (const [line, id, check] of dropped) {
    assert.equal(await originalDrops(clients.original, line, id), true, `does the original answer ${line}?`);
    clients.ours.sendLine(line);
    check(await clients.ours.waitFor((m) => m.id === id));
  }
  // id null: the original reads the message as a notification and drops it; JSON-RPC asks for an error.
  assert.equal(await originalDrops(clients.original, '{"jsonrpc":"2.0","id":null,"method":"ping"}', null), true);
  clients.ours.sendLine('{"jsonrpc":"2.0","id":null,"method":"ping"}');
  assert.equal((await clients.ours.waitFor((m) => m.id === null && m.error?.code === -32600)).error!.message, 'Invalid request: id must be a string or an integer');

  // Answered differently on purpose.
  const differ = async (line: string, id: string) => {
    clients.ours.sendLine(line);
    clients.original.sendLine(line);
    return Promise.all([clients.ours.waitFor((m) => m.id === id), clients.original.waitFor((m) => m.id === id)]);
  };
  // jsonrpc "1.0": the original never checks the version; JSON-RPC 2.0 says it is not a 2.0 request.
  const [ours10, original10] = await differ('{"jsonrpc":"1.0","id":"v1","method":"ping"}', 'v1');
  assert.deepEqual(original10.result, {});
  assert.equal(ours10.error?.code, -32600);
  // An unknown protocolVersion: the original echoes it; MCP says to answer one the server supports.
  const [oursInit, originalInit] = await differ('{"jsonrpc":"2.0","id":"init","method":"initialize","params":{"protocolVersion":"1999-01-01","capabilities":{},"clientInfo":{"name":"t","version":"1"}}}', 'init');
  assert.equal(originalInit.result.protocolVersion, '1999-01-01');
  assert.equal(oursInit.result.protocolVersion, '2025-11-25');
  // Our tools are the auth tools; the original's are its `codex` and `codex-reply` session tools.
  const tools = await ask(clients, 'tools/list');
  assert.deepEqual((tools.original as any).result.tools.map((tool: any) => tool.name), ['codex', 'codex-reply']);
  assert.ok((tools.ours as any).result.tools.every((tool: any) => !['codex', 'codex-reply'].includes(tool.name)));
  assert.equal((oursInit as any).result.capabilities.tools.listChanged, false, 'a fixed list (the original says true)');
  assert.equal((originalInit as any).result.capabilities.tools.listChanged, true);
});

test('config: a profile may set preferred_auth_method here (deliberate; 0.25 reads it only at the top level)', async (t) => {
  const clients = await bothServers(t, { args: ['-c', 'profile=keys', '-c', 'profiles.keys.preferred_auth_method="apikey"'] });
  const { ours, original } = await ask(clients, 'getAuthStatus', {});
  assert.deepEqual(original, { result: { preferredAuthMethod: 'chatgpt' } });
  assert.deepEqual(ours, { result: { preferredAuthMethod: 'apikey' } });
  // A top-level override is read by both alike.
  const top = await bothServers(t, { args: ['-c', 'preferred_auth_method=apikey'] });
  const both = await ask(top, 'getAuthStatus', {});
  assert.deepEqual(both.ours, both.original);
});

test('start-up: both refuse bad -c overrides and a CODEX_HOME that does not exist (we with exit code 2)', async (t) => {
  await access(originalCodexBinary, constants.X_OK);
  const run = async (original: boolean, args: string[], codexHome: string) => {
    const client = spawnServer({ codexHome, original, args, env: { RUST_LOG: 'error', OPENAI_API_KEY: undefined } });
    t.after(() => client.kill());
    return client;
  };
  const home = await tempHome();
  t.after(() => home.remove());
  for (const args of [['-c', 'preferred_auth_method'], ['-c', '=x'], ['-c', 'preferred_auth_method=both'], ['-c', 'profile=ghost']]) {
    const [ours, original] = await Promise.all([run(false, args, home.path), run(true, args, home.path)]);
    // The original only leaves once its stdin reader ends (its runtime waits for that thread),
    // so it gets EOF; ours exits on the error without it.
    original.child.stdin.end();
    const [oursExit, originalExit] = await Promise.all([ours.exited, original.exited]);
    assert.notEqual(originalExit.code, 0, `the original refuses ${args.join(' ')}`);
    assert.equal(oursExit.code, 2, `${args.join(' ')}: ${ours.stderr}`);
  }
  // The original needs CODEX_HOME to exist (it canonicalises the path) and exits 1 without it;
  // so does 0.171 (codex-home-missing.test.ts), and so do we, with exit 2 and the fix.
  const missing = await tempHome({ create: false });
  t.after(() => missing.remove());
  const original = await run(true, [], missing.path);
  original.child.stdin.end();
  assert.equal((await original.exited).code, 1);
  const ours = await run(false, [], missing.path);
  ours.child.stdin.end();
  const oursExit = await ours.exited;
  assert.equal(oursExit.code, 2);
  assert.match(ours.stderr, new RegExp(`CODEX_HOME points to "${missing.path}", but that path does not exist`));
});

test('stdin EOF: we exit 0 (the original 0.25 keeps running until it is killed)', async (t) => {
  const clients = await bothServers(t);
  await Promise.all([clients.ours.call('ping'), clients.original.call('ping')]);
  const { code } = await clients.ours.close(15_000);
  assert.equal(code, 0);
  // Not asserted for the original: it has no reason to exit, and it is killed after the test.
});
