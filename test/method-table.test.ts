/**
 * The wire table (src/protocol/methods.ts): what the types refuse at compile time, what the
 * dispatcher refuses at start-up, and every result and notification of a real server session
 * checked against its schema (results are not checked on the hot path, so they are here).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { pino } from 'pino';
import type * as z from '../src/protocol/zod.js';
import { CONSERVATIVE_CACHE_HINT, Methods, Notifications, ServerRequests, type MethodName, type MethodPolicy, type NotificationName } from '../src/protocol/methods.js';
import { Dispatcher, type HandlersFor, type RequestContext } from '../src/rpc/dispatcher.js';
import { composeHandlers } from '../src/server/method-pipeline.js';
import { startEmbeddedIssuer } from '../dev/issuer/embedded-issuer.js';
import { signInAtIssuer } from '../dev/issuer/scripted-sign-in.js';
import { startServer } from './support/spawn-server.js';
import { tempHome } from './support/temp-home.js';

// Compile-time guarantees: each line below must NOT compile (tsc fails on an unused directive).
// @ts-expect-error a table without a handler for every method
export const missing: HandlersFor<typeof Methods, MethodName> = { ping: () => ({}) };
// @ts-expect-error a handler for a name that is not in the table
export const stray: Partial<HandlersFor<typeof Methods, MethodName>> = { 'no/such/method': () => ({}) };
// @ts-expect-error a result of the wrong shape
export const wrongResult: HandlersFor<typeof Methods, 'account/login/cancel'> = { 'account/login/cancel': () => ({ status: 'gone' }) };
// @ts-expect-error a method that does not say what it touches (its place in the request order)
export const noAccess: MethodPolicy<object> = { eras: 'both' };
// @ts-expect-error a method that does not say which eras serve it
export const noEras: MethodPolicy<object> = { access: undefined };

test('each method is served in the eras of its entry, and a cacheable modern result carries its hint (the conservative default when it names none)', async () => {
  const opened: string[] = [];
  const stub = Object.fromEntries(Object.keys(Methods).map((name) => [name, () => ({ from: name })])) as unknown as HandlersFor<typeof Methods, MethodName>;
  const composed = composeHandlers(stub, { openCodexEvents: () => opened.push('codex'), openAccountEvents: () => opened.push('v2'), toolAccess: () => undefined, sendLog: () => undefined });
  const modernMeta = { 'io.modelcontextprotocol/protocolVersion': '2026-07-28', 'io.modelcontextprotocol/clientCapabilities': {} };
  const request = (meta: Record<string, unknown> | undefined) => ({ id: 1, meta, modern: undefined, signal: new AbortController().signal, afterResponse: () => undefined }) as RequestContext;
  const call = (name: MethodName, meta: Record<string, unknown> | undefined) => {
    const req = request(meta);
    try {
      return { result: (composed[name] as (p: unknown, r: RequestContext) => unknown)({}, req), req };
    } catch (error) {
      return { error: error as { code: number; message: string }, req };
    }
  };
  let cacheable = 0;
  for (const name of Object.keys(Methods) as MethodName[]) {
    const entry = Methods[name];
    const modern = call(name, modernMeta);
    if (entry.eras === 'legacy') {
      assert.equal(modern.error?.code, -32601, `${name} is not part of 2026-07-28`);
    } else {
      assert.equal(modern.req.modern?.protocolVersion, '2026-07-28', `${name}: the era is carried on the request`);
      const result = modern.result as Record<string, unknown>;
      assert.equal(result['resultType'], 'complete', name);
      if (entry.cache) {
        cacheable++;
        assert.deepEqual([result['ttlMs'], result['cacheScope']], [entry.cache.ttlMs, entry.cache.cacheScope], `${name} carries its caching hint`);
      } else assert.ok(!('ttlMs' in result) && !('cacheScope' in result), `${name} is not cacheable`);
    }
    const legacy = call(name, undefined);
    if (entry.eras === 'modern') assert.equal(legacy.error?.code, -32602, `${name} needs a modern _meta`);
    else assert.deepEqual([legacy.result, legacy.req.modern], [{ from: name }, undefined], `${name}: a legacy result goes out as the handler wrote it`);
  }
  assert.ok(cacheable >= 6, `${cacheable} cacheable methods`);
  assert.deepEqual(Methods['resources/read'].cache, CONSERVATIVE_CACHE_HINT, 'a cacheable method without a hint gets {ttlMs: 0, cacheScope: private}');
  assert.deepEqual(opened, ['codex', 'v2'], 'the codex notifications open at the first legacy request, the v2 ones at the first v2 method, each once');
});

test('the dispatcher refuses a second handler for a method, and a name not in its table', () => {
  const dispatcher = new Dispatcher(Methods, { send: () => undefined }, pino({ level: 'silent' }));
  dispatcher.register('ping', () => ({}));
  assert.throws(() => dispatcher.register('ping', () => ({})), /already registered/);
  assert.throws(() => dispatcher.register('no/such' as 'ping', () => ({})), /not in the method table/);
});

test('every result and notification of a whole session matches its schema in the table', async (t) => {
  const issuer = await startEmbeddedIssuer();
  t.after(() => issuer.close());
  const home = await tempHome();
  t.after(() => home.remove());
  const client = startServer(t, { codexHome: home.path, args: ['-c', `auth_issuer=${issuer.url}`, '-c', 'login_callback_port=0'] });
  const modern = { _meta: { 'io.modelcontextprotocol/protocolVersion': '2026-07-28', 'io.modelcontextprotocol/clientCapabilities': {} } };
  const calls: [MethodName, unknown][] = [
    ['initialize', { protocolVersion: '2025-11-25', capabilities: { elicitation: { url: {} } }, clientInfo: { name: 't', version: '1' } }],
    ['server/discover', modern],
    ['resources/read', { uri: 'codex-auth://status' }],
    ['resources/subscribe', { uri: 'codex-auth://status' }],
    ['ping', {}],
    // From here on the session's log lines also come as notifications/message (checked with the rest).
    ['logging/setLevel', { level: 'debug' }],
    ['tools/list', {}],
    ['tools/call', { name: 'auth_status', arguments: {} }],
    ['resources/list', {}],
    ['resources/templates/list', {}],
    ['prompts/list', {}],
    ['account/read', {}],
    ['getAuthStatus', { includeToken: true }],
    ['loginApiKey', { apiKey: 'sk-table' }],
    ['account/read', {}],
    ['account/login/start', { type: 'apiKey', apiKey: 'sk-table-2' }],
    ['logoutChatGpt', { revoke: false }],
    ['account/login/start', { type: 'chatgptDeviceCode' }],
    ['account/logout', { revoke: false }],
  ];
  // A modern stream stays open until the server ends it (its result is checked at the end).
  const listen = client.request('subscriptions/listen', { ...modern, notifications: { resourceSubscriptions: ['codex-auth://status'] } }, 'listen-1', 0);
  const checked = new Set<MethodName>();
  const check = (name: MethodName, result: unknown) => {
    const parsed = (Methods[name].result as z.ZodMiniType).safeParse(result);
    assert.ok(parsed.success, `${name}: ${JSON.stringify(result)} ${parsed.error?.message ?? ''}`);
    checked.add(name);
  };
  for (const [name, params] of calls) check(name, await client.call(name, params));

  const { loginId, authUrl } = await client.call('loginChatGpt', {});
  check('loginChatGpt', { loginId, authUrl });
  check('account/login/cancel', await client.call('account/login/cancel', { loginId }));
  const browser = await client.call('account/login/start', { type: 'chatgpt' });
  check('account/login/start', browser);
  await fetch(await signInAtIssuer(browser.authUrl), { redirect: 'manual' });
  await client.waitForNotification('account/login/completed', (p) => p.success === true && p.loginId === browser.loginId);
  check('account/read', await client.call('account/read', {}));
  const sessions = await client.call('accountSession/list', {});
  check('accountSession/list', sessions);
  const active = sessions.sessions[0]!;
  check('accountSession/switch', await client.call('accountSession/switch', { sessionId: active.sessionId, accountId: active.selectedWorkspaceAccountId! }));
  const another = await client.call('loginChatGpt', {});
  check('cancelLoginChatGpt', await client.call('cancelLoginChatGpt', { loginId: another.loginId }));
  check('resources/unsubscribe', await client.call('resources/unsubscribe', { uri: 'codex-auth://status' }));

  // The login tool of a 2025-11-25 client that declared URL elicitation: our one server→client request.
  const toolCall = client.call('tools/call', { name: 'login', arguments: { method: 'chatgpt' } });
  const elicit = await client.waitFor((m) => m.method === 'elicitation/create' && m.id !== undefined);
  assert.ok(ServerRequests['elicitation/create'].params.safeParse(elicit.params).success, JSON.stringify(elicit.params));
  client.send({ jsonrpc: '2.0', id: elicit.id, result: { action: 'accept' } });
  await fetch(await signInAtIssuer(elicit.params.url), { redirect: 'manual' });
  check('tools/call', await toolCall);
  await client.waitForNotification('notifications/elicitation/complete');
  await client.close();
  check('subscriptions/listen', (await listen).result);

  assert.deepEqual([...checked].sort(), (Object.keys(Methods) as MethodName[]).sort(), 'every method of the table was called');
  const seen = new Set<string>();
  for (const message of client.notifications()) {
    const schema = Notifications[message.method as NotificationName];
    assert.ok(schema, `${message.method} is a notification of the table`);
    const parsed = schema.safeParse(message.params);
    assert.ok(parsed.success, `${message.method}: ${JSON.stringify(message.params)}`);
    seen.add(message.method!);
  }
  assert.deepEqual([...seen].sort(), Object.keys(Notifications).sort(), 'every notification of the table was sent');
});
