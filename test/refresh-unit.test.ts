/** The refresh request, its classification and the token service's refresh task, in-process. */
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { test } from 'node:test';
import { withAuthLock } from '../src/auth/store/locks.js';
import { fingerprintOf } from '../src/auth/store/record.js';
import { RefreshControl } from '../src/protocol/refresh-control.js';
import { DEFAULT_RETRY_POLICY } from '../src/protocol/refresh-policy.js';
import { attemptRefresh, backoff, classifyFailure, parseRetryAfter, REFRESH_MESSAGES } from '../workers/token-service/refresh-request.js';
import { mergeRefreshed, runRefresh } from '../workers/token-service/refresh-task.js';
import type { RefreshTask } from '../src/protocol/token-service-tasks.js';
import { startFakeIssuer, RotatingTokens, type FakeIssuerScript } from '../dev/fakes/fake-issuer.js';
import { filesBesideLocks, tempHome, type TempHome } from './support/temp-home.js';
import { chatgptAuthRecord, testJwt } from '../dev/jwt.js';

type TestContext = { after(fn: () => unknown): void };
const claims = { email: 'user@example.com', planType: 'plus', accountId: 'acct-1' };

/** A CODEX_HOME holding a ChatGPT record, a scripted issuer, and a task for the stored record. */
async function setup(t: TestContext, script: FakeIssuerScript, record?: object) {
  const home = await tempHome();
  const issuer = await startFakeIssuer(script);
  t.after(() => Promise.all([home.remove(), issuer.close()]));
  await home.writeAuth(record ?? (await chatgptAuthRecord(claims)));
  const task = async (overrides: Partial<RefreshTask> = {}): Promise<RefreshTask> => ({
    store: { codexHome: home.path, mode: 'file' },
    issuer: issuer.url,
    basedOn: fingerprintOf(await readFile(home.authFile, 'utf8')),
    accountId: 'acct-1',
    force: true,
    ...overrides,
  });
  return { home, issuer, task };
}

const stored = async (home: TempHome) => JSON.parse(await readFile(home.authFile, 'utf8'));

test('classification: 401 and the refresh-token codes are permanent, with codex messages; the rest is transient', () => {
  for (const code of ['refresh_token_expired', 'refresh_token_reused', 'refresh_token_invalidated'] as const) {
    const failure = classifyFailure(401, JSON.stringify({ error: { code, message: 'x' } }));
    assert.deepEqual([failure.permanent, failure.code, failure.message], [true, code, REFRESH_MESSAGES[code]]);
    // The code decides even with another status, as in codex.
    assert.equal(classifyFailure(400, JSON.stringify({ error: { code } })).code, code);
  }
  assert.match(REFRESH_MESSAGES.refresh_token_reused, /already used\. Please log out and sign in again\.$/);
  const unknown401 = classifyFailure(401, 'not json');
  assert.deepEqual([unknown401.permanent, unknown401.code], [true, 'refresh_failed_permanently']);
  const invalidGrant = classifyFailure(400, '{"error":"invalid_grant","error_description":"grant request is invalid"}');
  assert.deepEqual([invalidGrant.permanent, invalidGrant.code], [true, 'refresh_failed_permanently']);
  assert.equal(classifyFailure(400, '{"error":"INVALID_GRANT"}').permanent, true, 'codes are compared case-insensitively');
  for (const [status, body] of [[429, ''], [500, ''], [502, '<html>'], [503, '{}'], [400, '{"error":"invalid_request"}'], [403, ''], [404, '']] as const) {
    const failure = classifyFailure(status, body);
    assert.deepEqual([failure.permanent, failure.code], [false, 'refresh_unavailable'], `${status} ${body}`);
  }
});

test('backoff grows, is jittered between half and all of its step, and never undercuts Retry-After', () => {
  const policy = { ...DEFAULT_RETRY_POLICY, baseDelayMs: 100, maxDelayMs: 5_000 };
  assert.deepEqual([0, 1, 2].map((n) => backoff(n, undefined, policy, () => 0)), [50, 100, 200]);
  assert.deepEqual([0, 1, 2].map((n) => backoff(n, undefined, policy, () => 1)), [100, 200, 400]);
  assert.equal(backoff(10, undefined, policy, () => 1), 5_000, 'capped');
  assert.equal(backoff(0, 3_000, policy, () => 0.5), 3_000);
  assert.equal(parseRetryAfter('7'), 7_000);
  assert.equal(parseRetryAfter('Wed, 21 Oct 2015 07:28:10 GMT', Date.parse('Wed, 21 Oct 2015 07:28:00 GMT')), 10_000);
  assert.equal(parseRetryAfter('soon'), undefined);
  assert.equal(parseRetryAfter(null), undefined);
});

test('the request: POST {issuer}/oauth/token with codex’s JSON body', async (t) => {
  const { issuer } = await setup(t, { onRefresh: () => ({ status: 200, json: { access_token: 'a' } }) });
  await attemptRefresh(issuer.url, 'rt-x', 5_000);
  const [call] = issuer.refreshCalls();
  assert.equal(call!.method, 'POST');
  assert.equal(call!.contentType, 'application/json');
  assert.deepEqual(call!.body, { client_id: 'app_EMoamEEZ73f0CkXaXp7hrann', grant_type: 'refresh_token', refresh_token: 'rt-x', scope: 'openid profile email' });
});

test('a response without refresh_token keeps the old one; empty or null fields never replace stored ones', async (t) => {
  const newId = await testJwt({ ...claims, exp: Math.floor(Date.now() / 1000) + 7200 });
  const { home, task } = await setup(t, { onRefresh: () => ({ status: 200, json: { id_token: newId, access_token: 'access-new', refresh_token: '' } }) });
  const before = await stored(home);
  const outcome = await runRefresh(await task());
  assert.equal(outcome.ok && outcome.via, 'network');
  const after = await stored(home);
  assert.equal(after.tokens.refresh_token, 'rt-test-1', 'the old refresh token is kept');
  assert.equal(after.tokens.access_token, 'access-new');
  assert.equal(after.tokens.id_token, newId);
  assert.equal(after.tokens.account_id, 'acct-1');
  assert.ok(Date.parse(after.last_refresh) >= Date.parse(before.last_refresh));

  const merged = mergeRefreshed(before, { access_token: '', refresh_token: '' } as never, new Date(0));
  assert.deepEqual(merged.tokens, before.tokens, 'empty strings are never stored');
  assert.equal(merged.last_refresh, new Date(0).toISOString());
  const nulls = await attemptRefresh((await setup(t, { onRefresh: () => ({ status: 200, json: { access_token: 'z', refresh_token: null, id_token: null } }) })).issuer.url, 'rt', 5_000);
  assert.deepEqual(nulls, { ok: true, tokens: { access_token: 'z' } });
});

test('a malformed 200 (not JSON, or an id_token that is not a JWT) is transient and stores nothing', async (t) => {
  let reply: object | string = 'not json';
  const { home, task } = await setup(t, { onRefresh: () => ({ status: 200, json: reply }) });
  const before = await readFile(home.authFile, 'utf8');
  const noSleep = { sleep: async () => undefined };
  const garbled = await runRefresh(await task(), noSleep);
  assert.deepEqual([garbled.ok, !garbled.ok && garbled.code, !garbled.ok && garbled.permanent], [false, 'refresh_unavailable', false]);
  reply = { id_token: 'not-a-jwt', access_token: 'a', refresh_token: 'r' };
  const badJwt = await runRefresh(await task(), noSleep);
  assert.equal(!badJwt.ok && badJwt.code, 'refresh_unavailable');
  assert.equal(await readFile(home.authFile, 'utf8'), before);
});

test('transient failures (503 with Retry-After, dropped connection, hang) are retried with growing delays, then succeed', async (t) => {
  const rotating = new RotatingTokens('rt-test-1', claims);
  const { home, issuer, task } = await setup(t, {
    onRefresh: (n, body) => (n === 1 ? { status: 503, headers: { 'retry-after': '2' } } : n === 2 ? 'drop' : n === 3 ? 'hang' : rotating.reply(body)),
  });
  const delays: number[] = [];
  const outcome = await runRefresh(await task({ attemptTimeoutMs: 500, baseDelayMs: 100 }), { sleep: async (ms) => void delays.push(ms), random: () => 1 });
  assert.equal(outcome.ok && outcome.via, 'network');
  assert.equal(issuer.refreshCalls().length, 4, 'three retries');
  assert.deepEqual(delays, [2_000, 200, 400], 'Retry-After honoured, then exponential');
  assert.equal((await stored(home)).tokens.refresh_token, 'rt-rotated-1');
});

test('after 1 + 3 transient attempts the refresh gives up; a long Retry-After ends it at once; auth.json untouched', async (t) => {
  let status = 500;
  const { home, issuer, task } = await setup(t, { onRefresh: () => ({ status, headers: status === 429 ? { 'retry-after': '120' } : ({} as Record<string, string>) }) });
  const before = await readFile(home.authFile, 'utf8');
  const noSleep = { sleep: async () => undefined };
  const exhausted = await runRefresh(await task(), noSleep);
  assert.deepEqual([exhausted.ok, !exhausted.ok && exhausted.permanent], [false, false]);
  assert.equal(issuer.refreshCalls().length, 4);
  status = 429;
  const paused = await runRefresh(await task(), noSleep);
  assert.equal(issuer.refreshCalls().length, 5, 'no retry inside a two-minute pause');
  assert.equal(!paused.ok && paused.retryAfterMs, 120_000, 'the pause is handed to the coordinator');
  assert.equal(await readFile(home.authFile, 'utf8'), before);
});

test('an attempt that hangs ends at its hard timeout as refresh_timeout', async (t) => {
  const { issuer } = await setup(t, { onRefresh: () => 'hang' });
  const result = await attemptRefresh(issuer.url, 'rt', 300);
  assert.deepEqual([result.ok, !result.ok && result.code, !result.ok && result.permanent], [false, 'refresh_timeout', false]);
});

test('permanent failures are not retried, leave auth.json as it was, and never delete it', async (t) => {
  let reply: object = { status: 401, json: { error: { code: 'refresh_token_expired' } } };
  const { home, issuer, task } = await setup(t, { onRefresh: () => reply as never });
  const before = await readFile(home.authFile, 'utf8');
  const expired = await runRefresh(await task());
  assert.deepEqual([!expired.ok && expired.code, !expired.ok && expired.permanent], ['refresh_token_expired', true]);
  reply = { status: 400, json: { error: 'invalid_grant' } };
  const grant = await runRefresh(await task());
  assert.equal(!grant.ok && grant.code, 'refresh_failed_permanently');
  assert.equal(issuer.refreshCalls().length, 2, 'one request each');
  assert.equal(await readFile(home.authFile, 'utf8'), before);
});

test('a permanent failure re-reads auth.json once and adopts what a lock-less sibling wrote meanwhile', async (t) => {
  let home!: TempHome;
  const sibling = await chatgptAuthRecord(claims);
  sibling.tokens.refresh_token = 'rt-from-sibling';
  // While our request is at the issuer, an older codex (which takes no lock) rotates and writes.
  const setupResult = await setup(t, {
    onRefresh: async () => {
      await home.writeAuth(sibling);
      return { status: 401, json: { error: { code: 'refresh_token_reused' } } };
    },
  });
  home = setupResult.home;
  const outcome = await runRefresh(await setupResult.task());
  assert.equal(outcome.ok && outcome.via, 'adopted');
  assert.equal((await stored(home)).tokens.refresh_token, 'rt-from-sibling');
});

test('tokens a sibling already rotated are adopted without the network; another account is refused', async (t) => {
  const { home, issuer, task } = await setup(t, { onRefresh: () => ({ status: 500 }) });
  const adopted = await runRefresh(await task({ basedOn: 'the-record-before-the-sibling-rotated' }));
  assert.equal(adopted.ok && adopted.via, 'adopted');
  await home.writeAuth(await chatgptAuthRecord({ email: 'other@example.com', planType: 'plus', accountId: 'acct-other' }));
  const refused = await runRefresh(await task({ basedOn: 'x' }));
  assert.deepEqual([refused.ok, !refused.ok && refused.code], [false, 'account_changed']);
  assert.equal(!refused.ok && refused.message, REFRESH_MESSAGES.account_changed);
  assert.equal(issuer.refreshCalls().length, 0);
  assert.equal((await stored(home)).tokens.account_id, 'acct-other', 'the other account’s record is left alone');
});

test('nothing to refresh: signed out, or an API key', async (t) => {
  const { home, task } = await setup(t, {});
  await home.writeAuth({ OPENAI_API_KEY: 'sk-x', tokens: null });
  const outcome = await runRefresh(await task());
  assert.equal(!outcome.ok && outcome.code, 'not_chatgpt');
});

test('the auth.json lock is released between attempts, so other writers never wait longer than one', async (t) => {
  const rotating = new RotatingTokens('rt-test-1', claims);
  let home!: TempHome;
  const got: string[] = [];
  const s = await setup(t, { onRefresh: (n, body) => (n === 1 ? { status: 503 } : rotating.reply(body)) });
  home = s.home;
  const outcome = await runRefresh(await s.task(), {
    // Between the attempts another writer takes (and gets) the lock.
    sleep: () => withAuthLock(home.path, async () => void got.push('lock')),
  });
  assert.equal(outcome.ok && outcome.via, 'network');
  assert.deepEqual(got, ['lock']);
  assert.deepEqual(await filesBesideLocks(home.path), ['auth.json'], 'no temp file left behind');
});

test('control: a stopped refresh sends nothing; a superseded one discards its result', async (t) => {
  const rotating = new RotatingTokens('rt-test-1', claims);
  const { home, issuer, task } = await setup(t, { onRefresh: (_n, body) => rotating.reply(body) });
  const before = await readFile(home.authFile, 'utf8');

  const stopped = new RefreshControl();
  await stopped.stop();
  const outcome = await runRefresh(await task({ control: stopped.buffer }));
  assert.equal(!outcome.ok && outcome.code, 'refresh_stopped');
  assert.equal(issuer.refreshCalls().length, 0);

  const superseded = new RefreshControl();
  assert.equal(superseded.supersede(), false, 'nothing was being written yet');
  const discarded = await runRefresh(await task({ control: superseded.buffer }));
  assert.equal(!discarded.ok && discarded.code, 'credentials_changed');
  assert.equal(issuer.refreshCalls().length, 1, 'the request was sent (it is never aborted)…');
  assert.equal(await readFile(home.authFile, 'utf8'), before, '…but its result is not written');
});

test('control: a stop during the pause between attempts ends the refresh without another request', async (t) => {
  let answered!: () => void;
  const firstAnswer = new Promise<void>((resolve) => (answered = resolve));
  const { issuer, task } = await setup(t, {
    onRefresh: () => {
      answered();
      return { status: 503, headers: { 'retry-after': '25' } };
    },
  });
  const control = new RefreshControl();
  const running = runRefresh(await task({ control: control.buffer }));
  // Stop once the first request is at the issuer: the task is answering it or already pausing for 25 s.
  await firstAnswer;
  await control.stop();
  const outcome = await running;
  assert.equal(!outcome.ok && outcome.code, 'refresh_stopped');
  assert.equal(issuer.refreshCalls().length, 1);
});

test('the worker decides "due" the same way: exp in 4 min refreshes, 6 min does not; unreadable exp refreshes after 8 days only', async (t) => {
  const rotating = new RotatingTokens('rt-test-1', claims);
  const { home, issuer, task } = await setup(t, { onRefresh: (_n, body) => rotating.reply(body) });
  const inMinutes = (m: number) => Math.floor(Date.now() / 1000) + m * 60;
  const daysAgo = (d: number) => new Date(Date.now() - d * 24 * 3600_000).toISOString();
  const cases: [string, object, boolean][] = [
    ['exp in 4 min', { ...(await chatgptAuthRecord({ ...claims, exp: inMinutes(4) })) }, true],
    ['exp in 6 min', { ...(await chatgptAuthRecord({ ...claims, exp: inMinutes(6) })) }, false],
    ['unreadable exp, last_refresh 9 days ago', { ...(await chatgptAuthRecord(claims)), last_refresh: daysAgo(9) }, true],
    ['unreadable exp, last_refresh 7 days ago', { ...(await chatgptAuthRecord(claims)), last_refresh: daysAgo(7) }, false],
    ['valid exp, last_refresh 9 days ago', { ...(await chatgptAuthRecord(claims)), last_refresh: daysAgo(9) }, false],
  ];
  for (const [name, record, due] of cases) {
    const stored = record as { tokens: { access_token: string; refresh_token: string } };
    if (name.startsWith('unreadable')) stored.tokens.access_token = 'an-opaque-access-token';
    stored.tokens.refresh_token = rotating.current;
    await home.writeAuth(stored);
    const calls = issuer.refreshCalls().length;
    const outcome = await runRefresh(await task({ force: false }));
    assert.equal(outcome.ok, true, name);
    assert.equal(outcome.ok && outcome.via, due ? 'network' : 'not_due', name);
    assert.equal(issuer.refreshCalls().length - calls, due ? 1 : 0, name);
  }
});
