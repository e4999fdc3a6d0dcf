/**
 * Issue 26, item 13 (the smaller ones; the keyring helper's bounded output is in
 * keyring-helper.test.ts, ids in hostile-names-ids.test.ts):
 *  - the sign-in pages send a Content-Security-Policy and X-Frame-Options (before: neither);
 *  - a cancelled `tools/call` retry is not answered (MCP: a cancelled request SHOULD NOT be;
 *    before: it was answered with input_required);
 *  - retries waiting for a sign-in and subscriptions/listen streams are capped per connection
 *    (before: neither was, and a request beyond any cap simply waited);
 *  - a keyring helper slow to start delays the first status by the documented 20 s, not 40 s
 *    (before: the failed load's change event asked for a reload, which waited 20 s more).
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { test } from 'node:test';
import type { RpcMessage } from '../dev/rpc-client.js';
import { startServer } from './support/spawn-server.js';
import { tempHome } from './support/temp-home.js';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fakeKeyringEnv } from './support/fake-keyring-env.js';

type T = { after(fn: () => unknown): void };
const VERSION = 'io.modelcontextprotocol/protocolVersion';
const CAPABILITIES = 'io.modelcontextprotocol/clientCapabilities';
const SUBSCRIPTION = 'io.modelcontextprotocol/subscriptionId';
const meta = (capabilities: object = {}) => ({ _meta: { [VERSION]: '2026-07-28', [CAPABILITIES]: capabilities } });
const URL_ELICITATION = { elicitation: { url: {} } };

async function started(t: T) {
  const home = await tempHome();
  t.after(() => home.remove());
  // No issuer is contacted: starting a browser sign-in only opens the callback listener.
  return startServer(t, { codexHome: home.path, args: ['-c', 'login_callback_port=0', '-c', 'auth_issuer=http://127.0.0.1:9'] });
}

test('the sign-in pages send a CSP that allows only their own style, and may not be framed', async (t) => {
  const client = await started(t);
  const { authUrl } = await client.call('loginChatGpt');
  const url = new URL(authUrl);
  const port = new URL(url.searchParams.get('redirect_uri')!).port;
  const state = url.searchParams.get('state')!;
  const plain = await fetch(`http://localhost:${port}/auth/callback?state=wrong`);
  const page = await fetch(`http://localhost:${port}/auth/callback?state=${state}&error=access_denied`);
  const html = await page.text();
  assert.match(html, /<style>/);
  const style = /<style>(.*?)<\/style>/.exec(html)![1]!;
  for (const response of [plain, page]) {
    assert.equal(response.headers.get('x-frame-options'), 'DENY');
    const csp = response.headers.get('content-security-policy') ?? '';
    assert.equal(csp, `default-src 'none'; style-src 'sha256-${createHash('sha256').update(style).digest('base64')}'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'`);
  }
});

async function askedToSignIn(t: T) {
  const client = await started(t);
  const asked = await client.call('tools/call', { ...meta(URL_ELICITATION), name: 'login', arguments: { method: 'chatgpt' } });
  assert.equal(asked.resultType, 'input_required');
  const retry = { ...meta(URL_ELICITATION), name: 'login', arguments: { method: 'chatgpt' }, requestState: asked.requestState, inputResponses: { sign_in: { action: 'accept' } } };
  return { client, retry };
}

test('a cancelled login retry is not answered', async (t) => {
  const { client, retry } = await askedToSignIn(t);
  const waiting = client.request('tools/call', retry, 'retry', 0);
  void waiting.catch(() => undefined);
  // The retry is waiting for the sign-in once a later request has been answered (lines are read in order).
  await client.request('getAuthStatus', {}, 'before-cancel');
  client.notify('notifications/cancelled', { requestId: 'retry', reason: 'gave up' });
  await client.request('getAuthStatus', {}, 'after-cancel');
  await client.request('getAuthStatus', {}, 'after-cancel-2');
  assert.equal(client.messages.some((m) => m.id === 'retry'), false, 'the cancelled retry was not answered');
});

test('retries waiting at once are capped per connection; cancelled, they make room', async (t) => {
  const { client, retry } = await askedToSignIn(t);

  // Sixteen retries wait for the sign-in; the seventeenth is answered at once.
  const waiting = Array.from({ length: 16 }, (_, i) => `wait-${i}`);
  for (const id of waiting) client.send({ jsonrpc: '2.0', id, method: 'tools/call', params: retry });
  const beyond = await client.request('tools/call', retry, 'beyond', 5_000);
  assert.equal(beyond.result?.isError, true, JSON.stringify(beyond));
  assert.match(beyond.result.content[0].text, /^16 retries of this sign-in are already waiting on this connection/);

  // Cancelled, they are not answered; a later request still is.
  for (const id of waiting) client.notify('notifications/cancelled', { requestId: id, reason: 'gave up' });
  await client.request('getAuthStatus', {}, 'after-cancel');
  await client.request('getAuthStatus', {}, 'after-cancel-2');
  const answeredCancelled = client.messages.filter((m: RpcMessage) => typeof m.id === 'string' && m.id.startsWith('wait-'));
  assert.deepEqual(answeredCancelled, [], 'no cancelled retry was answered');
  // With those gone, a new retry waits again (and, cancelled, is not answered either).
  const again = client.request('tools/call', retry, 'again', 0);
  client.notify('notifications/cancelled', { requestId: 'again' });
  await client.request('getAuthStatus', {}, 'after-again');
  assert.equal(client.messages.some((m) => m.id === 'again'), false, 'the new retry waited (and, cancelled, was not answered)');
  void again.catch(() => undefined);
});

test('subscriptions/listen streams are capped per connection; cancelling one makes room', async (t) => {
  const client = await started(t);
  const listen = (id: string) => client.send({ jsonrpc: '2.0', id, method: 'subscriptions/listen', params: { ...meta(), notifications: { resourceSubscriptions: ['codex-auth://status'] } } });
  const ids = Array.from({ length: 64 }, (_, i) => `sub-${i}`);
  for (const id of ids) listen(id);
  await client.waitFor((m) => m.method === 'notifications/subscriptions/acknowledged' && m.params._meta[SUBSCRIPTION] === 'sub-63', 'the 64th acknowledgement');
  const refused = await client.request('subscriptions/listen', { ...meta(), notifications: {} }, 'sub-64', 5_000);
  assert.equal(refused.error?.code, -32600);
  assert.equal(refused.error?.message, 'Invalid request: 64 subscriptions are already open on this connection; cancel one first');
  client.notify('notifications/cancelled', { requestId: 'sub-0' });
  listen('sub-65');
  const ack = await client.waitFor((m) => m.method === 'notifications/subscriptions/acknowledged' && m.params._meta[SUBSCRIPTION] === 'sub-65', 'room after a cancel');
  assert.ok(ack);
});

test('a keyring helper slow to start delays the first status by the start timeout (20 s), once', async (t) => {
  const home = await tempHome();
  t.after(() => home.remove());
  await home.writeConfig('cli_auth_credentials_store = "keyring"\n');
  const dir = await mkdtemp(join(tmpdir(), 'fake-keyring-'));
  t.after(() => rm(dir, { recursive: true, force: true, maxRetries: 5 }));
  const client = startServer(t, { codexHome: home.path, env: { ...fakeKeyringEnv('memory', dir), FAKE_KEYRING_START_MS: '120000' } });
  const started = Date.now();
  const status = await client.request('getAuthStatus', {}, 'first', 35_000);
  const elapsed = Date.now() - started;
  assert.equal(status.result?.authError?.code, 'keyring_unavailable', JSON.stringify(status));
  assert.match(status.result.authError.message, /the keyring helper did not start in time/);
  assert.ok(elapsed < 28_000, `the first status took ${elapsed} ms (the start timeout is 20 s)`);
});
