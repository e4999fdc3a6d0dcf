import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseStoredAuth } from '../src/auth/store/record.js';
import { readTokenClaims, tryReadTokenClaims } from '../workers/shared/jwt-claims.js';
import {
  needsRefresh,
  refreshDueTime,
  resolveSnapshot,
  REFRESH_WINDOW_MS,
  STALE_LAST_REFRESH_MS,
} from '../workers/token-service/resolve-snapshot.js';
import { chatgptAuthRecord, testJwt } from '../dev/jwt.js';

const options = { storage: 'file' } as const;
const present = (record: unknown) => parseStoredAuth(JSON.stringify(record), 'fp');

test('JWT claims: email, plan, account and exp are read; a non-JWT throws', async () => {
  const jwt = await testJwt({ email: 'a@b.c', planType: 'Pro', accountId: 'acct-9', exp: 2_000_000_000 });
  assert.deepEqual(readTokenClaims(jwt), {
    email: 'a@b.c',
    planType: 'pro',
    accountId: 'acct-9',
    expiresAt: 2_000_000_000_000,
  });
  assert.throws(() => readTokenClaims('not-a-jwt'));
  assert.equal(tryReadTokenClaims('a.b.c'), undefined);
});

test('no stored record: signed out (the environment holds no credential for Codex 0.171)', () => {
  assert.equal(resolveSnapshot({ kind: 'missing' }, options).authMethod, undefined);
});

test('a key and no tokens is apikey', () => {
  const snapshot = resolveSnapshot(present({ OPENAI_API_KEY: 'sk-file' }), options);
  assert.equal(snapshot.authMethod, 'apikey');
  assert.equal(snapshot.authToken, 'sk-file');
});

test('tokens and no key is chatgpt, with the account from the id_token', async () => {
  const record = await chatgptAuthRecord();
  const snapshot = resolveSnapshot(present(record), options);
  assert.equal(snapshot.authMethod, 'chatgpt');
  assert.equal(snapshot.authToken, record.tokens.access_token);
  assert.deepEqual(snapshot.account, { email: 'user@example.com', planType: 'plus', accountId: 'acct-1' });
});

test('a key and tokens: auth_mode decides, and without it the key, whatever the plan (0.171; 0.25 chose by plan)', async () => {
  for (const plan of ['free', 'plus', 'pro', 'team', 'enterprise', undefined]) {
    const record = await chatgptAuthRecord({ email: 'u@example.com', accountId: 'a', ...(plan && { planType: plan }) }, 'sk-file');
    assert.equal(resolveSnapshot(present(record), options).authMethod, 'apikey', `plan ${plan}`);
    assert.equal(resolveSnapshot(present({ ...record, auth_mode: 'chatgpt' }), options).authMethod, 'chatgpt', `plan ${plan}, auth_mode chatgpt`);
  }
});

test('an unusable record reads as signed out with an authError saying why', async () => {
  const garbage = resolveSnapshot(parseStoredAuth('{not json', 'fp'), options);
  assert.equal(garbage.authMethod, undefined);
  assert.equal(garbage.authError?.code, 'auth_file_unreadable');
  const badJwt = resolveSnapshot(
    present({ OPENAI_API_KEY: null, tokens: { id_token: 'x', access_token: 'y', refresh_token: 'z' } }),
    options,
  );
  assert.equal(badJwt.authMethod, undefined);
  assert.match(badJwt.authError!.message, /id_token/);
  const wrongShape = resolveSnapshot(present({ OPENAI_API_KEY: 42 }), options);
  assert.match(wrongShape.authError!.message, /OPENAI_API_KEY/);
});

test('refresh window: 5 minutes before exp; 8 days after last_refresh without exp', () => {
  const now = Date.now();
  const fourMinutes = refreshDueTime(now + 4 * 60_000, undefined)!;
  const sixMinutes = refreshDueTime(now + 6 * 60_000, undefined)!;
  assert.equal(now >= fourMinutes, true, 'exp in 4 min: refresh now');
  assert.equal(now >= sixMinutes, false, 'exp in 6 min: not yet');
  assert.equal(fourMinutes, now + 4 * 60_000 - REFRESH_WINDOW_MS);
  const nineDaysAgo = new Date(now - 9 * 24 * 3600_000).toISOString();
  assert.equal(now >= refreshDueTime(undefined, nineDaysAgo)!, true);
  const oneDayAgo = new Date(now - 24 * 3600_000).toISOString();
  assert.equal(refreshDueTime(undefined, oneDayAgo), Date.parse(oneDayAgo) + STALE_LAST_REFRESH_MS);
  assert.equal(refreshDueTime(undefined, undefined), 0, 'nothing to go by: refresh');
});

test('needsRefresh reads the snapshot against a given clock', async () => {
  const record = await chatgptAuthRecord({ email: 'e@x.y', planType: 'plus', accountId: 'a', exp: Math.floor(Date.now() / 1000) + 60 });
  const snapshot = resolveSnapshot(present(record), options);
  assert.equal(needsRefresh(snapshot), true);
  assert.equal(needsRefresh(snapshot, snapshot.refreshDueAt! - 1), false);
  assert.equal(needsRefresh(resolveSnapshot({ kind: 'missing' }, options)), false);
});

test('unknown fields of the stored record are kept', () => {
  const stored = parseStoredAuth(JSON.stringify({ OPENAI_API_KEY: 'k', auth_mode: 'apikey', extra: { a: 1 } }), 'fp');
  assert.equal(stored.kind, 'present');
  assert.deepEqual(stored.kind === 'present' && stored.record, { OPENAI_API_KEY: 'k', auth_mode: 'apikey', extra: { a: 1 } });
});
