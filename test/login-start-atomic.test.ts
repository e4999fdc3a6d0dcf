/**
 * Starting a login is atomic: requests that arrive in one stdin chunk (so their handlers all run
 * before any start has finished awaiting the login worker) still supersede or cancel each other
 * as if they had come one by one. Ports are counted from the server process's own sockets.
 */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { test } from 'node:test';
import type { RpcClient, RpcMessage } from '../dev/rpc-client.js';
import { callbackPortOf, embeddedLoginSetup } from './support/login-servers.js';
import { listeningPorts, listeningSockets } from './support/listening-sockets.js';
import { startServer } from './support/spawn-server.js';
import { tempHome } from './support/temp-home.js';

const COMPLETE = 'codex/event/login_chat_gpt_complete';

/** Writes the requests in a single write (one chunk) and resolves with their responses, in order. */
function sendInOneChunk(client: RpcClient, requests: { method: string; params?: unknown }[], prefix: string): Promise<RpcMessage[]> {
  const ids = requests.map((_, i) => `${prefix}-${i}`);
  const lines = requests.map((r, i) => JSON.stringify({ jsonrpc: '2.0', id: ids[i], method: r.method, ...(r.params !== undefined && { params: r.params }) }));
  client.child.stdin.write(`${lines.join('\n')}\n`);
  return Promise.all(ids.map((id) => client.waitFor((m) => m.id === id && m.method === undefined, `response ${id}`)));
}

test('N loginChatGpt in one chunk: exactly one login stays alive, every earlier one is superseded and its port closed', { timeout: 60_000 }, async (t) => {
  const N = 12;
  const { client } = await embeddedLoginSetup(t);
  const pid = client.child.pid!;
  assert.deepEqual(await listeningPorts(pid), [], 'no listener before any login');

  const responses = await sendInOneChunk(client, Array.from({ length: N }, () => ({ method: 'loginChatGpt' })), 'login');
  const logins = responses.map((r) => {
    assert.ok(r.result, `every start succeeds: ${JSON.stringify(r.error)}`);
    return r.result as { loginId: string; authUrl: string };
  });
  assert.equal(new Set(logins.map((l) => l.loginId)).size, N, 'N distinct logins');
  const last = logins.at(-1)!;
  const earlier = logins.slice(0, -1);

  for (const [i, login] of earlier.entries()) {
    const complete = await client.waitForNotification(COMPLETE, (p) => p.loginId === login.loginId);
    assert.deepEqual(complete.params, { loginId: login.loginId, success: false, error: 'Login server error: Login was not completed', errorCode: 'superseded' }, `login ${i}`);
    assert.ok(client.messages.indexOf(responses[i]!) < client.messages.indexOf(complete), `login ${i}: its completion follows its response`);
  }
  const lastPort = callbackPortOf(last.authUrl);
  assert.deepEqual(await listeningPorts(pid), [lastPort], 'only the last login still listens');
  assert.equal((await listeningSockets(pid)).length, 2, 'on 127.0.0.1 and ::1');

  // The superseded ones can no longer be cancelled; the live one can, once.
  for (const login of earlier.slice(0, 3)) {
    const refused = await client.request('cancelLoginChatGpt', { loginId: login.loginId });
    assert.deepEqual(refused.error, { code: -32600, message: `login id not found: ${login.loginId}` });
  }
  assert.deepEqual(await client.call('cancelLoginChatGpt', { loginId: last.loginId }), {});
  const lastComplete = await client.waitForNotification(COMPLETE, (p) => p.loginId === last.loginId);
  assert.equal(lastComplete.params.errorCode, 'cancelled');
  assert.deepEqual(await listeningPorts(pid), [], 'nothing listens once the live login is cancelled');
  await client.request('ping', undefined, 'end');
  assert.equal(client.notifications(COMPLETE).length, N, 'exactly one completion per login');
});

for (const [name, second] of [
  ['logoutChatGpt', { method: 'logoutChatGpt' }],
  ['loginApiKey', { method: 'loginApiKey', params: { apiKey: 'sk-in-the-same-chunk' } }],
] as const) {
  test(`loginChatGpt then ${name} in one chunk: the login being started is cancelled, not left behind`, { timeout: 30_000 }, async (t) => {
    const { client } = await embeddedLoginSetup(t);
    const pid = client.child.pid!;
    const [loginResponse, secondResponse] = await sendInOneChunk(client, [{ method: 'loginChatGpt' }, second], name);
    assert.ok(loginResponse!.result, JSON.stringify(loginResponse!.error));
    assert.ok(secondResponse!.result, JSON.stringify(secondResponse!.error));
    const { loginId } = loginResponse!.result;
    const complete = await client.waitForNotification(COMPLETE, (p) => p.loginId === loginId);
    assert.deepEqual(complete.params, { loginId, success: false, error: 'Login server error: Login was not completed', errorCode: 'cancelled' });
    assert.deepEqual(await listeningPorts(pid), [], 'no callback listener is left');
    const again = await client.request('cancelLoginChatGpt', { loginId });
    assert.deepEqual(again.error, { code: -32600, message: `login id not found: ${loginId}` });
  });
}

test('N loginChatGpt and stdin EOF in one chunk: the process exits 0 and every login it started completes exactly once', { timeout: 30_000 }, async (t) => {
  const N = 6;
  const home = await tempHome();
  t.after(() => home.remove());
  const client = startServer(t, { codexHome: home.path, args: ['-c', 'auth_issuer=http://127.0.0.1:9', '-c', 'login_callback_port=0'] });
  await client.initialize();
  const lines = Array.from({ length: N }, (_, i) => JSON.stringify({ jsonrpc: '2.0', id: `eof-${i}`, method: 'loginChatGpt' }));
  const closed = once(client.child, 'close'); // after the exit, once stdout has been read to its end
  client.child.stdin.end(`${lines.join('\n')}\n`);
  assert.deepEqual(await client.exited, { code: 0, signal: null });
  await closed;
  const started = client.messages.filter((m) => typeof m.id === 'string' && m.id.startsWith('eof-') && m.result).map((m) => m.result.loginId as string);
  const refused = client.messages.filter((m) => typeof m.id === 'string' && m.id.startsWith('eof-') && m.error);
  for (const response of refused) assert.match(response.error!.message, /shutting down/, JSON.stringify(response.error));
  const completions = client.notifications(COMPLETE).map((m) => m.params);
  assert.deepEqual(completions.map((c) => c.loginId).sort(), [...started].sort(), 'one completion per started login, none for any other');
  for (const completion of completions) assert.ok(['superseded', 'cancelled'].includes(completion.errorCode), JSON.stringify(completion));
});
