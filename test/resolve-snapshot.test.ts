/**
 * Mode resolution (which credential is in force), unit-tested on resolveSnapshot. Each case was
 * checked against Codex 0.171.0 (test/codex-0171.test.ts runs the same records through both);
 * where it reads a record as signed out, we do too and add an authError saying why (a deliberate
 * addition, see the README).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseStoredAuth, type StoredAuth } from '../src/auth/store/record.js';
import { resolveSnapshot, type ResolveOptions } from '../workers/token-service/resolve-snapshot.js';
import { AUTH_CLAIM, identityJwt, makeJwt, PROFILE_CLAIM } from '../dev/jwt.js';

const NOW = new Date().toISOString();
const stored = (record: unknown): StoredAuth => parseStoredAuth(typeof record === 'string' ? record : JSON.stringify(record), 'fp');
const resolve = (record: unknown, options: Partial<ResolveOptions> = {}) =>
  resolveSnapshot(record === undefined ? { kind: 'missing' } : stored(record), { storage: 'file', ...options });

async function tokens(claims: Record<string, unknown>) {
  return { id_token: await makeJwt(claims), access_token: await makeJwt(claims), refresh_token: 'rt' };
}
const withPlan = (plan: unknown, email: unknown = 'u@example.com') => tokens({ email, [AUTH_CLAIM]: { chatgpt_plan_type: plan } });

test('no auth.json is signed out, with no error; OPENAI_API_KEY in the environment is no credential (as 0.171)', () => {
  const snapshot = resolve(undefined);
  assert.equal(snapshot.authMethod, undefined);
  assert.equal(snapshot.accountType, undefined);
  assert.equal(snapshot.authError, undefined, 'no file is not an error');
  assert.equal(snapshot.source, 'none');
});

test('auth_mode decides when present; without it a stored key (even empty) wins over tokens — the 0.171 table', async () => {
  const plus = await withPlan('plus');
  type Row = [name: string, record: Record<string, unknown>, method: 'apikey' | 'chatgpt' | undefined, accountType: 'apiKey' | 'chatgpt' | undefined, code?: string];
  const table: Row[] = [
    ['key only', { OPENAI_API_KEY: 'sk-file' }, 'apikey', 'apiKey'],
    ['key only, auth_mode apikey', { auth_mode: 'apikey', OPENAI_API_KEY: 'sk-file' }, 'apikey', 'apiKey'],
    ['key only, auth_mode chatgpt', { auth_mode: 'chatgpt', OPENAI_API_KEY: 'sk-file' }, undefined, undefined, 'chatgpt_tokens_missing'],
    ['{}', {}, undefined, undefined, 'chatgpt_tokens_missing'],
    ['tokens only', { tokens: plus, last_refresh: NOW }, 'chatgpt', 'chatgpt'],
    ['tokens only, auth_mode chatgpt', { auth_mode: 'chatgpt', tokens: plus, last_refresh: NOW }, 'chatgpt', 'chatgpt'],
    ['tokens only, auth_mode chatgptAuthTokens', { auth_mode: 'chatgptAuthTokens', tokens: plus, last_refresh: NOW }, 'chatgpt', 'chatgpt'],
    ['tokens only, auth_mode apikey', { auth_mode: 'apikey', tokens: plus, last_refresh: NOW }, undefined, undefined, 'api_key_missing'],
    ['key and tokens, plus', { OPENAI_API_KEY: 'sk-file', tokens: plus, last_refresh: NOW }, 'apikey', 'apiKey'],
    ['key and tokens, enterprise', { OPENAI_API_KEY: 'sk-file', tokens: await withPlan('enterprise'), last_refresh: NOW }, 'apikey', 'apiKey'],
    ['key and tokens, auth_mode apikey', { auth_mode: 'apikey', OPENAI_API_KEY: 'sk-file', tokens: plus, last_refresh: NOW }, 'apikey', 'apiKey'],
    ['key and tokens, auth_mode chatgpt', { auth_mode: 'chatgpt', OPENAI_API_KEY: 'sk-file', tokens: plus, last_refresh: NOW }, 'chatgpt', 'chatgpt'],
    ['an empty key', { OPENAI_API_KEY: '' }, undefined, 'apiKey', 'auth_file_unreadable'],
    ['an empty key beside tokens', { OPENAI_API_KEY: '', tokens: plus, last_refresh: NOW }, undefined, 'apiKey', 'auth_file_unreadable'],
    ['auth_mode bogus', { auth_mode: 'bogus', OPENAI_API_KEY: 'sk-file' }, undefined, undefined, 'auth_file_unreadable'],
  ];
  for (const [name, record, method, accountType, code] of table) {
    const snapshot = resolve(record);
    assert.equal(snapshot.authMethod, method, name);
    assert.equal(snapshot.accountType, accountType, name);
    assert.equal(snapshot.authError?.code, code, name);
    if (method === 'apikey') assert.equal(snapshot.authToken, 'sk-file', name);
    if (method === 'chatgpt') assert.equal(snapshot.authToken, plus.access_token, name);
    if (!method) assert.equal(snapshot.authToken, undefined, name);
  }
});

test('the account comes from the id_token, with tokens.account_id as the fallback, and the user id from the auth claim', async () => {
  const t = { ...(await identityJwt({ email: 'a@example.com', planType: 'Pro', accountId: 'acct-claim' }).then(async (jwt) => ({ id_token: jwt, access_token: jwt, refresh_token: 'rt' }))), account_id: 'acct-stored' };
  assert.deepEqual(resolve({ tokens: t, last_refresh: NOW }).account, { email: 'a@example.com', planType: 'pro', accountId: 'acct-claim' });
  const noClaim = { ...(await tokens({ email: 'b@example.com', [AUTH_CLAIM]: { chatgpt_user_id: 'user-1', user_id: 'user-old' } })), account_id: 'acct-stored' };
  assert.deepEqual(resolve({ tokens: noClaim, last_refresh: NOW }).account, { email: 'b@example.com', accountId: 'acct-stored', userId: 'user-1' });
  const profileEmail = await tokens({ [PROFILE_CLAIM]: { email: 'p@example.com' }, [AUTH_CLAIM]: { user_id: 'user-2' } });
  assert.deepEqual(resolve({ tokens: profileEmail, last_refresh: NOW }).account, { email: 'p@example.com', userId: 'user-2' });
});

test('ChatGPT records with no usable bearer: signed out, with an authError here', async () => {
  const cases: [string, unknown, RegExp][] = [
    ['ChatGPT tokens without last_refresh', { OPENAI_API_KEY: null, tokens: await withPlan('plus') }, /no last_refresh/],
    ['ChatGPT tokens with a null last_refresh', { tokens: await withPlan('plus'), last_refresh: null }, /no last_refresh/],
    ['an empty access token', { tokens: { ...(await withPlan('plus')), access_token: '' }, last_refresh: NOW }, /access_token is empty/],
  ];
  for (const [name, record, reason] of cases) {
    const snapshot = resolve(record);
    assert.equal(snapshot.authMethod, undefined, name);
    assert.equal(snapshot.authToken, undefined, name);
    assert.equal(snapshot.authError?.code, 'auth_file_unreadable', name);
    assert.match(snapshot.authError!.message, reason, name);
  }
  // A key with tokens lacking last_refresh: apikey needs no token data.
  assert.equal(resolve({ OPENAI_API_KEY: 'sk', tokens: await withPlan('enterprise') }).authMethod, 'apikey');
});

test('records 0.25 cannot load at all: signed out, with an authError saying why', async () => {
  const good = await withPlan('plus');
  const cases: [string, unknown, RegExp][] = [
    ['not JSON', '{"OPENAI_API_KEY": ', /not valid JSON/],
    ['empty file', '', /not valid JSON/],
    ['JSON null', 'null', /expected object/],
    ['an array', '[]', /expected object/],
    ['a numeric key', { OPENAI_API_KEY: 42 }, /OPENAI_API_KEY/],
    ['tokens without id_token', { OPENAI_API_KEY: 'sk', tokens: {} }, /id_token/],
    ['a numeric account_id', { tokens: { ...good, account_id: 5 }, last_refresh: NOW }, /account_id/],
    ['last_refresh not a date', { OPENAI_API_KEY: 'sk', last_refresh: 'yesterday' }, /RFC 3339/],
    ['last_refresh without a zone', { tokens: good, last_refresh: '2099-01-01T00:00:00' }, /RFC 3339/],
    ['last_refresh a date only', { tokens: good, last_refresh: '2099-01-01' }, /RFC 3339/],
    ['last_refresh a number', { tokens: good, last_refresh: 5 }, /last_refresh/],
    ['id_token not a JWT', { tokens: { ...good, id_token: 'x' }, last_refresh: NOW }, /id_token/],
    ['id_token unsecured (empty signature)', { tokens: { ...good, id_token: await makeJwt({ email: 'u@x.y' }, { alg: 'none' }) }, last_refresh: NOW }, /id_token/],
    ['id_token email a number', { tokens: await withPlan('pro', 5), last_refresh: NOW }, /id_token/],
    ['id_token plan a number', { tokens: await withPlan(5), last_refresh: NOW }, /id_token/],
  ];
  for (const [name, record, reason] of cases) {
    const snapshot = resolve(record);
    assert.equal(snapshot.authMethod, undefined, name);
    assert.equal(snapshot.authToken, undefined, name);
    assert.equal(snapshot.authError?.code, 'auth_file_unreadable', name);
    assert.match(snapshot.authError!.message, reason, name);
  }
});

test('last_refresh in any form chrono accepts is fine', async () => {
  const good = await withPlan('plus');
  for (const lastRefresh of ['2025-08-06T20:41:36.232376Z', '2025-08-06T20:41:36Z', '2025-08-06T22:41:36+02:00', '2025-08-06 20:41:36Z', '2025-08-06t20:41:36z']) {
    const snapshot = resolve({ tokens: good, last_refresh: lastRefresh });
    assert.equal(snapshot.authMethod, 'chatgpt', lastRefresh);
    assert.equal(snapshot.lastRefresh, lastRefresh);
  }
});

test('an opaque access token is served as is, with no expiry known', async () => {
  const t = { ...(await withPlan('plus')), access_token: 'opaque-token' };
  const snapshot = resolve({ tokens: t, last_refresh: NOW });
  assert.equal(snapshot.authMethod, 'chatgpt');
  assert.equal(snapshot.authToken, 'opaque-token');
  assert.equal(snapshot.accessTokenExpiresAt, undefined);
  assert.equal(snapshot.refreshDueAt, Date.parse(NOW) + 8 * 24 * 3600_000, 'refresh 8 days after last_refresh');
});

test('storage and storage warnings pass through every outcome', async () => {
  const options = { storage: 'keyring' as const, storageWarning: 'fell back' };
  const outcomes = [
    resolveSnapshot({ kind: 'missing' }, options),
    resolveSnapshot({ kind: 'unusable', reason: 'locked', fingerprint: 'f', code: 'keyring_unavailable' }, options),
    resolveSnapshot(stored({ OPENAI_API_KEY: 'sk' }), options),
    resolveSnapshot(stored({ tokens: { ...(await withPlan('plus')), id_token: 'bad' }, last_refresh: NOW }), options),
    resolveSnapshot(stored({ tokens: await withPlan('plus') }), options),
  ];
  for (const snapshot of outcomes) {
    assert.equal(snapshot.storage, 'keyring');
    assert.equal(snapshot.storageWarning, 'fell back');
  }
  assert.equal(outcomes[1]!.authError?.code, 'keyring_unavailable', 'a store-specific code is kept');
});
