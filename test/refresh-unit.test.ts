import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { test } from 'node:test';
import { parseStoredAuth } from '../src/auth/auth-record.js';
import { fingerprintOf } from '../src/auth/file-store.js';
import { backoff, classifyFailure, DEFAULT_REFRESH_POLICY } from '../src/auth/refresh-request.js';
import { mergeRefreshed, runRefresh } from '../src/auth/refresh-task.js';
import { startFakeIssuer, RotatingTokens } from './support/fake-issuer.js';
import { tempHome } from './support/temp-home.js';
import { chatgptAuthRecord } from './support/tokens.js';

test('permanent vs transient refresh failures', () => {
  const reused = classifyFailure(401, JSON.stringify({ error: { code: 'refresh_token_reused' } }));
  assert.deepEqual([reused.permanent, reused.code], [true, 'refresh_token_reused']);
  assert.match(reused.message, /already used\. Please log out and sign in again/);
  assert.equal(classifyFailure(401, '{"error":{"code":"refresh_token_expired"}}').code, 'refresh_token_expired');
  assert.equal(classifyFailure(401, '{"error":{"code":"refresh_token_invalidated"}}').code, 'refresh_token_invalidated');
  const grant = classifyFailure(400, '{"error":"invalid_grant"}');
  assert.deepEqual([grant.permanent, grant.code], [true, 'refresh_failed_permanently']);
  for (const status of [429, 500, 502, 503]) assert.equal(classifyFailure(status, '').permanent, false, String(status));
});

test('backoff grows, is jittered, and honours Retry-After', () => {
  const policy = { ...DEFAULT_REFRESH_POLICY, baseDelayMs: 100, maxDelayMs: 5_000 };
  for (let i = 0; i < 50; i++) {
    const first = backoff(0, undefined, policy);
    const third = backoff(2, undefined, policy);
    assert.ok(first >= 50 && first <= 100);
    assert.ok(third >= 200 && third <= 400);
  }
  assert.equal(backoff(0, 3_000, policy), 3_000);
  assert.equal(backoff(0, 60_000, policy), 5_000, 'capped');
});

test('a refresh response without refresh_token keeps the old one; empty fields never replace stored ones', async () => {
  const record = await chatgptAuthRecord();
  const merged = mergeRefreshed(record, { access_token: 'new-access' });
  assert.equal(merged.tokens!.refresh_token, 'rt-test-1');
  assert.equal(merged.tokens!.access_token, 'new-access');
  assert.equal(merged.tokens!.id_token, record.tokens.id_token);
  assert.ok(Date.parse(merged.last_refresh!) >= Date.parse(record.last_refresh));
});

const resolve = { preferredAuthMethod: 'chatgpt' as const };

test('runRefresh adopts tokens a sibling already rotated, without the network', async (t) => {
  const home = await tempHome();
  const issuer = await startFakeIssuer({ onRefresh: () => ({ status: 500 }) });
  t.after(() => Promise.all([home.remove(), issuer.close()]));
  await home.writeAuth(await chatgptAuthRecord());
  const outcome = await runRefresh({
    store: { codexHome: home.path, mode: 'file' },
    resolve,
    issuer: issuer.url,
    basedOn: 'an-older-record',
    accountId: 'acct-1',
    force: true,
  });
  assert.equal(outcome.ok, true);
  assert.equal(outcome.ok && outcome.via, 'adopted');
  assert.equal(issuer.refreshCalls().length, 0);
});

test('runRefresh never adopts another account', async (t) => {
  const home = await tempHome();
  const issuer = await startFakeIssuer({ onRefresh: () => ({ status: 500 }) });
  t.after(() => Promise.all([home.remove(), issuer.close()]));
  await home.writeAuth(await chatgptAuthRecord({ email: 'other@example.com', planType: 'plus', accountId: 'acct-other' }));
  const outcome = await runRefresh({ store: { codexHome: home.path, mode: 'file' }, resolve, issuer: issuer.url, basedOn: 'x', accountId: 'acct-1', force: true });
  assert.equal(outcome.ok, false);
  assert.equal(!outcome.ok && outcome.code, 'account_changed');
  assert.equal(issuer.refreshCalls().length, 0);
});

test('runRefresh rotates, writes atomically, and a permanent failure leaves auth.json untouched', async (t) => {
  const home = await tempHome();
  const rotating = new RotatingTokens('rt-test-1');
  let fail = false;
  const issuer = await startFakeIssuer({
    onRefresh: (_n, body) => (fail ? { status: 401, json: { error: { code: 'refresh_token_expired' } } } : rotating.reply(body)),
  });
  t.after(() => Promise.all([home.remove(), issuer.close()]));
  await home.writeAuth(await chatgptAuthRecord());
  const text = await readFile(home.authFile, 'utf8');
  const task = { store: { codexHome: home.path, mode: 'file' as const }, resolve, issuer: issuer.url, basedOn: fingerprintOf(text), accountId: 'acct-1', force: true };
  const outcome = await runRefresh(task);
  assert.equal(outcome.ok && outcome.via, 'network');
  const stored = JSON.parse(await readFile(home.authFile, 'utf8'));
  assert.equal(stored.tokens.refresh_token, 'rt-rotated-1');
  assert.equal(issuer.refreshCalls()[0]!.contentType, 'application/json');
  assert.deepEqual(Object.keys(issuer.refreshCalls()[0]!.body).sort(), ['client_id', 'grant_type', 'refresh_token', 'scope']);

  fail = true;
  const before = await readFile(home.authFile, 'utf8');
  const failed = await runRefresh({ ...task, basedOn: fingerprintOf(before) });
  assert.equal(!failed.ok && failed.code, 'refresh_token_expired');
  assert.equal(!failed.ok && failed.permanent, true);
  assert.equal(await readFile(home.authFile, 'utf8'), before, 'a failed refresh changes nothing on disk');
  assert.equal(parseStoredAuth(before, 'x').kind, 'present');
});
