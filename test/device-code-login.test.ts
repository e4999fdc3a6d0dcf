/**
 * Device-code sign-in over stdio: against the embedded oidc-provider issuer (the real flow, as
 * `npm run demo -- --device` runs it) and against a scripted issuer for intervals, slow-downs,
 * errors, expiry and cancellation.
 */
import assert from 'node:assert/strict';
import { readFile, stat } from 'node:fs/promises';
import { test } from 'node:test';
import { demoUserId, startEmbeddedIssuer } from '../dev/issuer/embedded-issuer.js';
import { deviceExpiredError } from '../src/protocol/login.js';
import { DEVICE_VERIFIER, pollGaps, startDeviceIssuer, type DeviceIssuer, type DeviceIssuerScript } from '../dev/fakes/device-issuer.js';
import { loginServer } from './support/login-servers.js';
import type { RpcClient } from '../dev/rpc-client.js';

type TestContext = { after(fn: () => unknown): void };

/** Timers never fire early, but clocks of two processes and rounding may differ by a few ms. */
const SLACK_MS = 50;

async function deviceIssuer(t: TestContext, script: DeviceIssuerScript = {}): Promise<DeviceIssuer> {
  const issuer = await startDeviceIssuer(script);
  t.after(() => issuer.close());
  return issuer;
}

async function startDevice(client: RpcClient): Promise<{ loginId: string; verificationUrl: string; userCode: string }> {
  const started = await client.call('account/login/start', { type: 'chatgptDeviceCode' });
  assert.equal(started.type, 'chatgptDeviceCode');
  return started;
}

const completionOf = (client: RpcClient, loginId: string, timeoutMs = 30_000) =>
  client.waitForNotification('account/login/completed', (p) => p.loginId === loginId, timeoutMs);

test('device code against the embedded issuer: code shown, entered on /codex/device, tokens stored; notifications in order', async (t) => {
  const embedded = await startEmbeddedIssuer({ deviceCodeInterval: '1' });
  t.after(() => embedded.close());
  const { client, home } = await loginServer(t, embedded.url);
  const response = await client.request('account/login/start', { type: 'chatgptDeviceCode' });
  const started = response.result;
  assert.deepEqual(Object.keys(started).sort(), ['loginId', 'type', 'userCode', 'verificationUrl']);
  assert.equal(started.verificationUrl, `${embedded.url}/codex/device`);
  assert.match(started.userCode, /^[A-Z0-9]{4}-[A-Z0-9]{5}$/);
  assert.match(started.loginId, /^[0-9a-f-]{36}$/);

  // A person opens the page and enters the code.
  assert.equal((await fetch(started.verificationUrl)).status, 200);
  const page = await fetch(started.verificationUrl, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ user_code: started.userCode, email: 'pro@example.com' }).toString(),
  });
  assert.equal(page.status, 200);

  const completed = await completionOf(client, started.loginId);
  assert.deepEqual(completed.params, { loginId: started.loginId, success: true, error: null, onboardingEntrypoint: null });
  const v1 = await client.waitForNotification('codex/event/login_chat_gpt_complete');
  assert.deepEqual(v1.params, { loginId: started.loginId, success: true });
  const updated = await client.waitForNotification('account/updated');
  assert.deepEqual(updated.params, { authMode: 'chatgpt', planType: 'pro', reason: null });
  const change = await client.waitForNotification('codex/event/auth_status_change');
  assert.deepEqual(change.params, { authMethod: 'chatgpt' });
  const at = (m: object) => client.messages.indexOf(m);
  assert.ok(at(response) < at(completed) && at(completed) < at(updated), 'response, then completed, then updated (as codex app-server)');

  const stored = JSON.parse(await readFile(home.authFile, 'utf8'));
  assert.equal(stored.tokens.account_id, 'acct-demo-0002');
  assert.equal(stored.OPENAI_API_KEY, null, 'as codex, a device sign-in stores no exchanged API key');
  assert.equal((await stat(home.authFile)).mode & 0o777, 0o600);
  assert.equal(embedded.stats.codeExchanges, 1);
  assert.deepEqual(await client.call('account/read'), { account: { type: 'chatgpt', email: 'pro@example.com', planType: 'pro', workspaceName: null }, userId: demoUserId('pro@example.com'), requiresOpenaiAuth: true, workspaceRouting: null });
  for (const secret of [stored.tokens.access_token, stored.tokens.refresh_token, stored.tokens.id_token]) {
    assert.equal(client.stderr.includes(secret), false, 'no token in the logs');
  }
  assert.equal(client.notifications('account/login/completed').length, 1);
});

test('device code: the poll request carries device_auth_id and user_code, the exchange uses {issuer}/deviceauth/callback and the verifier', async (t) => {
  const issuer = await deviceIssuer(t, { claims: { email: 'd@example.com', planType: 'team', accountId: 'acct-d' } });
  const { client, home } = await loginServer(t, issuer.url);
  const started = await startDevice(client);
  assert.equal(started.userCode, 'CODE-00001');
  await issuer.pollsReached(1);
  issuer.approve();
  const done = await completionOf(client, started.loginId);
  assert.equal(done.params.success, true, JSON.stringify(done.params));
  assert.deepEqual(issuer.polls[0]!.deviceAuthId, 'device-auth-1');
  assert.deepEqual(issuer.polls[0]!.userCode, 'CODE-00001');
  assert.equal(issuer.calls.find((c) => c.path === '/api/accounts/deviceauth/token')!.contentType, 'application/json');
  assert.deepEqual(issuer.calls.find((c) => c.path === '/api/accounts/deviceauth/usercode')!.body, { client_id: 'app_EMoamEEZ73f0CkXaXp7hrann' });
  const [exchange] = issuer.exchanges;
  assert.equal(exchange!.body['redirect_uri'], `${issuer.url}/deviceauth/callback`);
  assert.equal(exchange!.body['code_verifier'], DEVICE_VERIFIER);
  assert.equal(exchange!.body['code'], 'auth-code-device-auth-1');
  assert.equal(exchange!.body['client_id'], 'app_EMoamEEZ73f0CkXaXp7hrann');
  const stored = JSON.parse(await readFile(home.authFile, 'utf8'));
  assert.equal(stored.tokens.account_id, 'acct-d');
  assert.equal(stored.tokens.refresh_token, 'rt-device-1');
  assert.deepEqual((await client.waitForNotification('account/updated')).params, { authMode: 'chatgpt', planType: 'team', reason: null });
});

test('device code: cancel stops polling at once, even with a poll in flight; the code is no longer polled', async (t) => {
  const issuer = await deviceIssuer(t, {
    // The first code's second poll never gets an answer: cancel must not wait for it.
    onPoll: (poll) => (poll.deviceAuthId === 'device-auth-1' && poll.n === 2 ? 'hang' : undefined),
  });
  const { client } = await loginServer(t, issuer.url);
  const first = await startDevice(client);
  await issuer.pollsReached(2);
  assert.deepEqual(await client.call('account/login/cancel', { loginId: first.loginId }), { status: 'canceled' });
  const cancelled = await completionOf(client, first.loginId);
  assert.deepEqual(cancelled.params, { loginId: first.loginId, success: false, error: 'Login server error: Login was not completed', onboardingEntrypoint: null, errorCode: 'cancelled' });
  const v1 = await client.waitForNotification('codex/event/login_chat_gpt_complete', (p) => p.loginId === first.loginId);
  assert.equal(v1.params.errorCode, 'cancelled');
  const pollsOfFirst = () => issuer.polls.filter((p) => p.deviceAuthId === 'device-auth-1').length;
  const afterCancel = pollsOfFirst();

  // A second sign-in polls twice (≥ 2 intervals): the first code is not polled meanwhile.
  const second = await startDevice(client);
  await issuer.pollsReached(2, (p) => p.deviceAuthId === 'device-auth-2');
  assert.equal(pollsOfFirst(), afterCancel, 'no poll of the cancelled code after the cancel');
  assert.deepEqual(await client.call('account/login/cancel', { loginId: first.loginId }), { status: 'notFound' });
  assert.deepEqual(await client.call('account/login/cancel', { loginId: second.loginId }), { status: 'canceled' });
  assert.equal(client.notifications('account/updated').length, 0, 'a cancel changes no credentials');
});

test('device code: one engine under both APIs — v1 cancelLoginChatGpt cancels it, loginChatGpt supersedes it', async (t) => {
  const issuer = await deviceIssuer(t);
  const { client } = await loginServer(t, issuer.url);
  const first = await startDevice(client);
  assert.deepEqual(await client.call('cancelLoginChatGpt', { loginId: first.loginId }), {});
  assert.equal((await completionOf(client, first.loginId)).params.errorCode, 'cancelled');

  const second = await startDevice(client);
  const browser = await client.call('loginChatGpt');
  const superseded = await completionOf(client, second.loginId);
  assert.equal(superseded.params.success, false);
  assert.equal(superseded.params.errorCode, 'superseded');
  // And a device-code start supersedes the browser login in turn.
  const third = await startDevice(client);
  const browserEnded = await client.waitForNotification('codex/event/login_chat_gpt_complete', (p) => p.loginId === browser.loginId);
  assert.equal(browserEnded.params.errorCode, 'superseded');
  assert.deepEqual(await client.call('account/login/cancel', { loginId: third.loginId }), { status: 'canceled' });
});

test('device code: a code nobody enters expires with errorCode "expired" (codex text at the default 15 minutes)', async (t) => {
  assert.equal(deviceExpiredError(15 * 60 * 1000), 'device auth timed out after 15 minutes');
  const issuer = await deviceIssuer(t);
  const { client } = await loginServer(t, issuer.url, { args: ['-c', 'device_code_timeout_secs=2.5'] });
  const started = await startDevice(client);
  const expired = await completionOf(client, started.loginId);
  assert.deepEqual(expired.params, { loginId: started.loginId, success: false, error: 'device auth timed out after 2.5 seconds', onboardingEntrypoint: null, errorCode: 'expired' });
  assert.ok(issuer.polls.length >= 1, 'it polled while the code was valid');
  assert.equal(issuer.exchanges.length, 0);
  assert.deepEqual(await client.call('account/login/cancel', { loginId: started.loginId }), { status: 'notFound' });
});

test('device code: an issuer without it (404) gets a clear error; other failures to get a code too', async (t) => {
  const without = await deviceIssuer(t, { userCode: { status: 404, json: { error: 'not_found' } } });
  const { client } = await loginServer(t, without.url);
  const refused = await client.request('account/login/start', { type: 'chatgptDeviceCode' });
  assert.equal(refused.error?.code, -32603);
  assert.match(refused.error!.message, /^device-code login is not enabled for this issuer/);
  const tool = await client.call('tools/call', { name: 'login', arguments: { method: 'device_code' } });
  assert.equal(tool.isError, true);
  assert.match(tool.content[0].text, /device-code login is not enabled for this issuer/);

  const broken = await deviceIssuer(t, { userCode: { status: 500, json: { error: 'boom' } } });
  const other = await loginServer(t, broken.url);
  const failed = await other.client.request('account/login/start', { type: 'chatgptDeviceCode' });
  assert.deepEqual(failed.error, { code: -32603, message: 'device-code login failed: the issuer answered 500' });

  const unreachable = await loginServer(t, 'http://127.0.0.1:9');
  const down = await unreachable.client.request('account/login/start', { type: 'chatgptDeviceCode' });
  assert.equal(down.error?.code, -32603);
  assert.match(down.error!.message, /^device-code login failed: the issuer could not be reached/);
  // Nothing is left running after a failed start.
  assert.equal((await unreachable.client.call('account/login/cancel', { loginId: '00000000-0000-4000-8000-000000000000' })).status, 'notFound');
});

test('device code: a missing interval polls at the RFC 8628 default of 5 s; "0" still polls at least 1 s apart; the "usercode" spelling', async (t) => {
  // Also the "usercode" spelling codex accepts as an alias.
  const missing = await deviceIssuer(t, { userCode: { status: 200, json: { device_auth_id: 'device-auth-1', usercode: 'ABCD-EFGHI' } } });
  const zero = await deviceIssuer(t, { interval: '0', onPoll: (poll) => (poll.n <= 3 ? { status: 403 } : undefined) });
  missing.approve();
  zero.approve();
  const [a, b] = await Promise.all([loginServer(t, missing.url), loginServer(t, zero.url)]);
  const [startedA, startedB] = await Promise.all([startDevice(a.client), startDevice(b.client)]);
  assert.equal(startedA.userCode, 'ABCD-EFGHI');
  const [doneA, doneB] = await Promise.all([completionOf(a.client, startedA.loginId), completionOf(b.client, startedB.loginId)]);
  assert.equal(doneA.params.success, true, JSON.stringify(doneA.params));
  assert.equal(doneB.params.success, true, JSON.stringify(doneB.params));
  assert.deepEqual([missing.polls[0]!.deviceAuthId, missing.polls[0]!.userCode], ['device-auth-1', 'ABCD-EFGHI']);
  const [first] = pollGaps(missing);
  assert.ok(first! >= 5_000 - SLACK_MS, `first poll after ${first} ms`);
  const gaps = pollGaps(zero);
  assert.equal(gaps.length, 4);
  for (const gap of gaps) assert.ok(gap >= 1_000 - SLACK_MS, `polls ${gaps.join(', ')} ms apart`);
});

test('device code: 429 slows polling down for this and later polls, never sooner than Retry-After', async (t) => {
  const issuer = await deviceIssuer(t, {
    interval: 1,
    onPoll: (poll) => {
      if (poll.n === 1 || poll.n === 3) return { status: 403 };
      if (poll.n === 2) return { status: 429, json: { error: 'rate_limited' }, headers: { 'retry-after': '3' } };
      return undefined;
    },
  });
  issuer.approve();
  const { client } = await loginServer(t, issuer.url);
  const started = await startDevice(client);
  const done = await completionOf(client, started.loginId);
  assert.equal(done.params.success, true, JSON.stringify(done.params));
  const gaps = pollGaps(issuer);
  assert.equal(gaps.length, 4, `polls ${gaps.join(', ')} ms apart`);
  assert.ok(gaps[0]! >= 1_000 - SLACK_MS && gaps[1]! >= 1_000 - SLACK_MS, `polls ${gaps.join(', ')} ms apart`);
  assert.ok(gaps[2]! >= 3_000 - SLACK_MS, `after the 429 (Retry-After: 3) the next poll came ${gaps[2]} ms later`);
  assert.ok(gaps[3]! >= 2_000 - SLACK_MS, `the interval stays doubled: ${gaps[3]} ms`);
});

test('device code: RFC 8628 error bodies and a 5xx are understood; access_denied ends the sign-in', async (t) => {
  const issuer = await deviceIssuer(t, {
    onPoll: (poll) =>
      poll.n === 1
        ? { status: 400, json: { error: 'authorization_pending' } }
        : poll.n === 2
          ? { status: 503, json: { error: 'unavailable' } }
          : { status: 400, json: { error: 'access_denied' } },
  });
  const { client, home } = await loginServer(t, issuer.url);
  const started = await startDevice(client);
  const denied = await completionOf(client, started.loginId);
  assert.deepEqual(denied.params, { loginId: started.loginId, success: false, error: 'device-code login failed: the sign-in was declined', onboardingEntrypoint: null, errorCode: 'access_denied' });
  const gaps = pollGaps(issuer);
  assert.equal(gaps.length, 3);
  assert.ok(gaps[2]! >= 2_000 - SLACK_MS, `a 5xx slows down too: ${gaps.join(', ')} ms`);
  await assert.rejects(stat(home.authFile), { code: 'ENOENT' });
});

test('device code: an unexpected poll answer or a failed code exchange ends it with a typed error, storing nothing', async (t) => {
  const odd = await deviceIssuer(t, { onPoll: () => ({ status: 400, json: { error: 'invalid_request' } }) });
  const a = await loginServer(t, odd.url);
  const startedA = await startDevice(a.client);
  assert.deepEqual((await completionOf(a.client, startedA.loginId)).params, {
    loginId: startedA.loginId,
    success: false,
    error: 'device-code login failed: the issuer answered 400',
    onboardingEntrypoint: null,
    errorCode: 'device_code_failed',
  });

  const exchange = await deviceIssuer(t, { onExchange: () => ({ status: 400, json: { error: 'invalid_grant' } }) });
  exchange.approve();
  const b = await loginServer(t, exchange.url);
  const startedB = await startDevice(b.client);
  const failed = await completionOf(b.client, startedB.loginId);
  assert.equal(failed.params.success, false);
  assert.equal(failed.params.errorCode, 'token_exchange_failed');
  assert.match(failed.params.error, /^Token exchange failed: /);
  await assert.rejects(stat(b.home.authFile), { code: 'ENOENT' });
  assert.equal(b.client.notifications('account/updated').length, 0);
});
