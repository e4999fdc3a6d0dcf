/**
 * The two MCP eras on the wire, byte by byte where the SDKs would hide it: the 2026-07-28 `_meta`
 * checks and their error codes, the envelope on every modern result, probes before `initialize`,
 * the `subscriptions/listen` stream's life, the login tool's requestState, and both eras on one
 * process.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { startEmbeddedIssuer } from '../dev/issuer/embedded-issuer.js';
import { chatgptAuthRecord } from '../dev/jwt.js';
import type { RpcMessage } from '../dev/rpc-client.js';
import { startServer } from './support/spawn-server.js';
import { tempHome } from './support/temp-home.js';

type TestContext = { after(fn: () => unknown): void };

const VERSION = 'io.modelcontextprotocol/protocolVersion';
const CAPABILITIES = 'io.modelcontextprotocol/clientCapabilities';
const SERVER_INFO = 'io.modelcontextprotocol/serverInfo';
const SUBSCRIPTION = 'io.modelcontextprotocol/subscriptionId';
const meta = (capabilities: object = {}) => ({ _meta: { [VERSION]: '2026-07-28', [CAPABILITIES]: capabilities, 'io.modelcontextprotocol/clientInfo': { name: 'wire', version: '1' } } });

async function started(t: TestContext, args: string[] = []) {
  const home = await tempHome();
  t.after(() => home.remove());
  const client = startServer(t, { codexHome: home.path, args: ['-c', 'login_callback_port=0', ...args] });
  return { client, home };
}

test('modern _meta is checked on every request: -32022 names what we serve, -32602 a missing field; never -32020 on stdio', async (t) => {
  const { client } = await started(t);
  const unsupported = await client.request('tools/list', { _meta: { [VERSION]: '1900-01-01', [CAPABILITIES]: {} } });
  assert.deepEqual(unsupported.error, { code: -32022, message: 'Unsupported protocol version', data: { supported: ['2026-07-28'], requested: '1900-01-01' } });
  // A legacy revision named per request is not one we serve statelessly either.
  assert.equal((await client.request('getAuthStatus', { _meta: { [VERSION]: '2025-11-25', [CAPABILITIES]: {} } })).error?.code, -32022);
  const noCapabilities = await client.request('tools/call', { name: 'auth_status', _meta: { [VERSION]: '2026-07-28' } });
  assert.equal(noCapabilities.error?.code, -32602);
  assert.match(noCapabilities.error!.message, /clientCapabilities is required/);
  assert.equal((await client.request('tools/list', { _meta: { [VERSION]: 20260728, [CAPABILITIES]: {} } })).error?.code, -32602);
  assert.equal((await client.request('tools/list', { _meta: { [VERSION]: '2026-07-28', [CAPABILITIES]: 'all' } })).error?.code, -32602);
  // The modern-only methods need the fields too (a legacy client never sends them).
  assert.equal((await client.request('server/discover', {})).error?.code, -32602);
  assert.equal((await client.request('subscriptions/listen', { notifications: {} })).error?.code, -32602);
  // Methods 2026-07-28 removed.
  for (const method of ['ping', 'initialize', 'resources/subscribe']) {
    assert.equal((await client.request(method, { ...meta(), uri: 'codex-auth://status' })).error?.code, -32601, method);
  }
  assert.equal(client.messages.some((m) => m.error?.code === -32020), false);
});

test('every modern result carries resultType and our serverInfo; lists, discovery and the resource carry ttlMs and cacheScope', async (t) => {
  const { client } = await started(t);
  const answers = new Map<string, any>();
  for (const method of ['server/discover', 'tools/list', 'resources/list', 'resources/templates/list', 'prompts/list', 'getAuthStatus', 'account/read']) {
    answers.set(method, await client.call(method, meta()));
  }
  answers.set('resources/read', await client.call('resources/read', { ...meta(), uri: 'codex-auth://status' }));
  answers.set('tools/call', await client.call('tools/call', { ...meta(), name: 'auth_status', arguments: {} }));
  for (const [method, result] of answers) {
    assert.equal(result.resultType, 'complete', method);
    assert.equal(result._meta[SERVER_INFO].name, 'codex-auth-mcp', method);
  }
  const hints = (method: string) => [answers.get(method).ttlMs, answers.get(method).cacheScope];
  for (const method of ['server/discover', 'tools/list', 'resources/list', 'resources/templates/list', 'prompts/list']) assert.deepEqual(hints(method), [3_600_000, 'public'], method);
  assert.deepEqual(hints('resources/read'), [0, 'private']);
  assert.deepEqual(hints('tools/call'), [undefined, undefined]);
  const discover = answers.get('server/discover');
  assert.deepEqual(discover.supportedVersions, ['2026-07-28']);
  assert.deepEqual(discover.capabilities, { tools: { listChanged: false }, resources: { subscribe: true, listChanged: false }, logging: {} });
  // Unknown resources: -32602 in the modern era, -32002 in the initialize era.
  assert.equal((await client.request('resources/read', { ...meta(), uri: 'codex-auth://secrets' })).error?.code, -32602);
  assert.equal((await client.request('resources/read', { uri: 'codex-auth://secrets' })).error?.code, -32002);
});

test('probes before initialize never end the process; legacy probes still get -32601; then both eras work on one process', async (t) => {
  const { client } = await started(t);
  // What dual-era clients and old probers send first, in any order.
  const probes = await Promise.all([
    client.request('server/discover', {}),
    client.request('server/discover', meta()),
    client.request('logging/setLevel', { level: 'info' }),
    client.request('completion/complete', {}),
    client.request('tasks/list', {}),
    client.request('no/such/method', undefined),
  ]);
  // logging/setLevel is an initialize-era method (answered `{}`, as ping is); the rest are unknown.
  assert.deepEqual(probes.map((m) => m.error?.code ?? m.result.resultType), [-32602, 'complete', undefined, -32601, -32601, -32601]);
  const init = await client.initialize('2025-11-25');
  assert.equal(init.protocolVersion, '2025-11-25');
  // The legacy handshake did not take the modern era away: a request with _meta is still served statelessly.
  assert.equal((await client.call('tools/list', meta())).resultType, 'complete');
  assert.equal((await client.call('tools/list')).resultType, undefined);
  assert.deepEqual(await client.call('ping'), {});
  assert.equal(client.child.exitCode, null);
});

test('subscriptions/listen: acknowledged first, updates tagged with its id, cancel ends it silently, shutdown ends it with a result', async (t) => {
  const { client, home } = await started(t);
  assert.equal(JSON.parse((await client.call('resources/read', { ...meta(), uri: 'codex-auth://status' })).contents[0].text).authMethod, null);
  const first = client.request('subscriptions/listen', { ...meta(), notifications: { resourceSubscriptions: ['codex-auth://status'], promptsListChanged: true } }, 'sub-a', 0);
  const second = client.request('subscriptions/listen', { ...meta(), notifications: { resourcesListChanged: true } }, 'sub-b', 0);
  const acks = await Promise.all(['sub-a', 'sub-b'].map((id) => client.waitForNotification('notifications/subscriptions/acknowledged', (p) => p._meta[SUBSCRIPTION] === id)));
  assert.deepEqual(acks.map((m) => m.params.notifications), [{ resourceSubscriptions: ['codex-auth://status'] }, {}]);

  await home.writeAuth(await chatgptAuthRecord({ email: 'listen@example.com', planType: 'plus', accountId: 'acc-l' }));
  const updated = await client.waitForNotification('notifications/resources/updated');
  assert.deepEqual(updated.params, { _meta: { [SUBSCRIPTION]: 'sub-a' }, uri: 'codex-auth://status' });

  client.notify('notifications/cancelled', { requestId: 'sub-a', reason: 'done' });
  await home.writeAuth({ OPENAI_API_KEY: 'sk-after-cancel' });
  // The change is served (read) but the cancelled stream hears nothing more, and never gets a response.
  await waitForStatus(client, 'apikey');
  const received = (id: string) => client.messages.filter((m: RpcMessage) => m.id === id || m.params?._meta?.[SUBSCRIPTION] === id).map((m) => m.method ?? 'response');
  assert.deepEqual(received('sub-a'), ['notifications/subscriptions/acknowledged', 'notifications/resources/updated']);
  assert.deepEqual(received('sub-b'), ['notifications/subscriptions/acknowledged']);
  // No codex notification to a client that spoke only 2026-07-28.
  assert.deepEqual(client.notifications().filter((m) => !m.method!.startsWith('notifications/')), []);

  // The cancelled stream's request never gets an answer: the client gives up on it when the server exits.
  const abandoned = first.then(() => 'answered', () => 'never answered');
  await client.close();
  const graceful = (await second).result;
  assert.deepEqual([graceful.resultType, graceful._meta[SUBSCRIPTION], graceful._meta[SERVER_INFO].name], ['complete', 'sub-b', 'codex-auth-mcp']);
  assert.equal(await abandoned, 'never answered');
});

test('resources/subscribe (initialize era): a change is announced with the bare uri while subscribed, and not after resources/unsubscribe', async (t) => {
  const { client, home } = await started(t);
  await client.call('initialize', { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 'wire', version: '1' } });
  assert.deepEqual(await client.call('resources/subscribe', { uri: 'codex-auth://status' }), {});
  await home.writeAuth({ OPENAI_API_KEY: 'sk-subscribed' });
  const updated = await client.waitForNotification('notifications/resources/updated');
  assert.deepEqual(updated.params, { uri: 'codex-auth://status' });

  assert.deepEqual(await client.call('resources/unsubscribe', { uri: 'codex-auth://status' }), {});
  await home.writeAuth(await chatgptAuthRecord({ email: 'unsubscribed@example.com', planType: 'plus', accountId: 'acc-u' }));
  // Read after the change took effect: a notification for it would have been written before this answer.
  await waitForStatus(client, 'chatgpt');
  assert.equal(client.notifications().filter((m) => m.method === 'notifications/resources/updated').length, 1);
});

async function waitForStatus(client: { call(method: string, params?: unknown): Promise<any> }, authMethod: string) {
  for (let attempt = 0; attempt < 200; attempt++) {
    const read = await client.call('resources/read', { ...meta(), uri: 'codex-auth://status' });
    if (JSON.parse(read.contents[0].text).authMethod === authMethod) return;
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  assert.fail(`the status never became ${authMethod}`);
}

test('login retries: a changed or foreign requestState is -32602; a retry that must ask again without URL elicitation is -32021', async (t) => {
  const issuer = await startEmbeddedIssuer();
  t.after(() => issuer.close());
  const { client } = await started(t, ['-c', `auth_issuer=${issuer.url}`]);
  const url = { elicitation: { url: {} } };
  const asked = await client.call('tools/call', { ...meta(url), name: 'login', arguments: { method: 'chatgpt' } });
  assert.equal(asked.resultType, 'input_required');
  assert.deepEqual(Object.keys(asked), ['resultType', 'inputRequests', 'requestState', '_meta'], 'no caching hints on an interim result');
  const request = asked.inputRequests.sign_in;
  assert.equal(request.method, 'elicitation/create');
  assert.equal(request.params.mode, 'url');
  assert.ok(request.params.url.startsWith(`${issuer.url}/oauth/authorize?`));
  const state: string = asked.requestState;
  // It holds the login id and the page already shown; never the PKCE verifier or a token.
  assert.doesNotMatch(Buffer.from(state.split('.')[0]!, 'base64url').toString(), /code_verifier|refresh_token|access_token|id_token"|sk-/i);

  const retry = (params: object) => client.request('tools/call', { name: 'login', arguments: { method: 'chatgpt' }, ...params });
  const tampered = `${state.slice(0, 10)}${state[10] === 'A' ? 'B' : 'A'}${state.slice(11)}`;
  assert.equal((await retry({ ...meta(url), requestState: tampered, inputResponses: { sign_in: { action: 'accept' } } })).error?.code, -32602);
  assert.equal((await retry({ ...meta(url), requestState: 'not-ours' })).error?.code, -32602);
  // Issued for chatgpt, presented for device_code: refused.
  const other = await client.request('tools/call', { ...meta(url), name: 'login', arguments: { method: 'device_code' }, requestState: state });
  assert.equal(other.error?.code, -32602);

  // No answer in the retry: asked again (same sign-in, a fresh state); without the capability that is -32021.
  const again = (await retry({ ...meta(url), requestState: state })).result;
  assert.equal(again.resultType, 'input_required');
  assert.equal(again.inputRequests.sign_in.params.url, request.params.url);
  const missing = await retry({ ...meta(), requestState: state });
  assert.deepEqual(missing.error, { code: -32021, message: 'Missing required client capability', data: { requiredCapabilities: { elicitation: { url: {} } } } });

  // Cancel: the sign-in is abandoned and said so.
  const cancelled = (await retry({ ...meta(url), requestState: again.requestState, inputResponses: { sign_in: { action: 'cancel' } } })).result;
  assert.equal(cancelled.content[0].text, 'Sign-in cancelled; nothing was changed.');
  const status = await client.call('tools/call', { ...meta(), name: 'auth_status', arguments: {} });
  assert.match(status.content[0].text, /^Signed out\. Looked for credentials in /);
  assert.equal(client.messages.some((m) => m.method !== undefined && m.id !== undefined), false, 'no request was ever written to stdout');
});
