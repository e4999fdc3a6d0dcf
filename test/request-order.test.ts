/**
 * Answers in request order: what one client is told fits the order it sent its requests in, even
 * when reads and changes arrive in one chunk while the server is still reading the credentials
 * for the first time (a status sent before a sign-in reports the state before it).
 */
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { test } from 'node:test';
import type { RpcMessage } from '../dev/rpc-client.js';
import { BY_TOOL, Methods, type Access, type MethodName } from '../src/protocol/methods.js';
import { conflicts, RequestOrder } from '../src/server/method-pipeline.js';
import { toolCallAccess } from '../src/server/tools/index.js';
import { startServer } from './support/spawn-server.js';
import { tempHome } from './support/temp-home.js';
import { chatgptAuthRecord } from '../dev/jwt.js';

test('the gate: reads wait for earlier changes, changes for earlier reads and changes; the rest runs at once', async () => {
  const reads: Access = { reads: ['auth'] };
  const writes: Access = { writes: ['auth'] };
  assert.equal(conflicts(reads, reads), false);
  assert.equal(conflicts(reads, writes), true);
  assert.equal(conflicts(writes, reads), true);
  assert.equal(conflicts(writes, { writes: ['login'] }), false);

  const order = new RequestOrder();
  const log: string[] = [];
  // Nothing in flight: the handler runs synchronously and its plain value comes back unchanged.
  assert.equal(order.run(reads, () => 'sync'), 'sync');
  assert.equal(order.run(undefined, () => 7), 7);

  let finishWrite!: () => void;
  const slowRead = order.run(reads, () => new Promise<string>((resolve) => setImmediate(() => (log.push('read 1'), resolve('before')))));
  const write = order.run(writes, () => {
    log.push('write starts');
    return new Promise<void>((resolve) => (finishWrite = () => (log.push('write ends'), resolve())));
  });
  const laterRead = order.run(reads, () => (log.push('read 2'), 'after'));
  const unrelated = order.run({ writes: ['login'] }, () => (log.push('login'), 'free'));
  assert.equal(unrelated, 'free', 'a request that conflicts with nothing is not held');
  assert.equal(await slowRead, 'before');
  await new Promise((resolve) => setImmediate(resolve));
  assert.deepEqual(log, ['login', 'read 1', 'write starts']);
  finishWrite();
  await write;
  assert.equal(await laterRead, 'after');
  assert.deepEqual(log, ['login', 'read 1', 'write starts', 'write ends', 'read 2']);

  // A read that does not hold later requests (a status that refreshes first) still waits for earlier changes.
  await new Promise((resolve) => setImmediate(resolve)); // the finished requests are forgotten
  let finishChange!: () => void;
  const change = order.run(writes, () => new Promise<void>((resolve) => (finishChange = resolve)));
  let refreshRan = false;
  order.run({ reads: ['auth'], holdsLater: false }, () => ((refreshRan = true), new Promise<string>(() => undefined))); // never ends
  const afterRefresh = order.run(writes, () => 'not held by the refreshing read');
  assert.equal(refreshRan, false, 'the refreshing read waits for the earlier change');
  assert.ok(afterRefresh instanceof Promise, 'the later change is behind the earlier change only');
  finishChange();
  await change;
  assert.equal(await afterRefresh, 'not held by the refreshing read');
  assert.equal(refreshRan, true);

  // A change that fails still lets the requests after it run.
  const failing = order.run(writes, () => Promise.reject(new Error('refused')));
  const next = order.run(reads, () => 'still answered');
  await assert.rejects(failing as Promise<unknown>, /refused/);
  assert.equal(await next, 'still answered');
  await new Promise((resolve) => setImmediate(resolve));
  assert.equal(order.pending, 0, 'finished requests are forgotten');
});

test('every method of the wire table says what it touches; status reads, sign-ins and logouts change', () => {
  const of = (method: MethodName, params: unknown = {}) => {
    const access = Methods[method].access;
    if (access === BY_TOOL) return toolCallAccess(params as Parameters<typeof toolCallAccess>[0]);
    return typeof access === 'function' ? (access as (p: unknown) => Access | undefined)(params) : access;
  };
  assert.deepEqual(of('getAuthStatus'), { reads: ['auth'] });
  assert.deepEqual(of('account/read'), { reads: ['auth'] });
  assert.deepEqual(of('getAuthStatus', { refreshToken: true }), { reads: ['auth'], holdsLater: false }, 'a logout never waits for a refresh that hangs');
  assert.deepEqual(of('account/read', { refreshToken: true }), { reads: ['auth'], holdsLater: false });
  assert.deepEqual(of('loginApiKey'), { writes: ['auth', 'login'] });
  assert.deepEqual(of('account/login/start', { type: 'apiKey', apiKey: 'k' }), { writes: ['auth', 'login'] });
  assert.deepEqual(of('account/login/start', { type: 'chatgpt' }), { writes: ['login'] });
  assert.deepEqual(of('tools/call', { name: 'auth_status' }), { reads: ['auth'] });
  assert.deepEqual(of('tools/call', { name: 'login', arguments: { method: 'api_key', apiKey: 'k' } }), { writes: ['auth', 'login'] });
  assert.deepEqual(of('tools/call', { name: 'logout' }), { writes: ['auth', 'login'] });
  assert.equal(of('tools/call', { name: 'nope' }), undefined);
  assert.equal(of('ping'), undefined);
});

/** Sends `requests` in one write, right after spawn, and resolves with the response to each, by id. */
async function inOneChunk(t: { after(fn: () => unknown): void }, codexHome: string, requests: [method: string, params?: unknown][]) {
  const client = startServer(t, { codexHome });
  const lines = requests.map(([method, params], i) => JSON.stringify({ jsonrpc: '2.0', id: i + 1, method, ...(params !== undefined && { params }) }));
  client.child.stdin.write(`${lines.join('\n')}\n`);
  const answers = await Promise.all(requests.map((_, i) => client.waitFor((m: RpcMessage) => m.id === i + 1 && m.method === undefined, `response #${i + 1}`)));
  return { client, answers };
}

test('reads and changes interleaved in one chunk at start-up: each read reports the state as of its place in the stream', async (t) => {
  const rounds = await Promise.all(
    [1, 2, 3].map(async () => {
      const home = await tempHome();
      t.after(() => home.remove());
      const { answers } = await inOneChunk(t, home.path, [
        ['getAuthStatus', { includeToken: true }],
        ['loginApiKey', { apiKey: 'sk-first' }],
        ['getAuthStatus', { includeToken: true }],
        ['account/read', {}],
        ['tools/call', { name: 'auth_status', arguments: {} }],
        ['logoutChatGpt', { revoke: false }],
        ['getAuthStatus', { includeToken: true }],
        ['account/read', {}],
        ['account/login/start', { type: 'apiKey', apiKey: 'sk-second' }],
        ['getAuthStatus', { includeToken: true }],
        ['tools/call', { name: 'login', arguments: { method: 'api_key', apiKey: 'sk-third' } }],
        ['getAuthStatus', { includeToken: true }],
      ]);
      return { home, answers: answers.map((a) => a.result ?? a.error) };
    }),
  );
  for (const { home, answers } of rounds) {
    const [before, , afterFirst, v2AfterFirst, toolAfterFirst, , afterLogout, v2AfterLogout, , afterSecond, , afterThird] = answers;
    assert.deepEqual(before, { preferredAuthMethod: 'chatgpt' }, 'a status sent before the sign-in reports the state before it');
    assert.deepEqual(afterFirst, { preferredAuthMethod: 'chatgpt', authMethod: 'apikey', authToken: 'sk-first' });
    assert.deepEqual(v2AfterFirst.account, { type: 'apiKey' });
    assert.equal(toolAfterFirst.content[0].text, 'Signed in with an OpenAI API key.');
    assert.deepEqual(afterLogout, { preferredAuthMethod: 'chatgpt' });
    assert.equal(v2AfterLogout.account, null);
    assert.deepEqual(afterSecond, { preferredAuthMethod: 'chatgpt', authMethod: 'apikey', authToken: 'sk-second' });
    assert.deepEqual(afterThird, { preferredAuthMethod: 'chatgpt', authMethod: 'apikey', authToken: 'sk-third' });
    assert.deepEqual(JSON.parse(await readFile(home.authFile, 'utf8')), { auth_mode: 'apikey', OPENAI_API_KEY: 'sk-third' }, 'the changes took effect in the order sent');
  }
});

test('signed in at start-up: a status sent before a logout in the same chunk still reports the sign-in', async (t) => {
  const home = await tempHome();
  t.after(() => home.remove());
  await home.writeAuth(await chatgptAuthRecord({ email: 'me@example.com', planType: 'plus', accountId: 'acct' }));
  const { answers } = await inOneChunk(t, home.path, [
    ['account/read', {}],
    ['getAuthStatus', {}],
    ['account/logout', { revoke: false }],
    ['getAuthStatus', {}],
    ['account/read', {}],
  ]);
  const [v2Before, before, logout, after, v2After] = answers.map((a) => a.result);
  assert.equal(v2Before.account.email, 'me@example.com');
  assert.equal(before.authMethod, 'chatgpt');
  assert.equal(logout.revoked, false);
  assert.deepEqual(after, { preferredAuthMethod: 'chatgpt' });
  assert.equal(v2After.account, null);
});
