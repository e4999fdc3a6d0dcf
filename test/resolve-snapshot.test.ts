/**
 * Mode resolution (which credential is in force), unit-tested on resolveSnapshot. Each case was
 * checked against the original `codex mcp` 0.25.0 (test/differential.test.ts runs the same
 * records through both); where the original reads a record as signed out, we do too and add an
 * authError saying why (a deliberate addition, see the README).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseStoredAuth, type StoredAuth } from '../src/auth/auth-record.js';
import { resolveSnapshot, type ResolveOptions } from '../src/auth/resolve-snapshot.js';
import { AUTH_CLAIM, identityJwt, makeJwt, PROFILE_CLAIM } from './support/jwt.js';

const NOW = new Date().toISOString();
const stored = (record: unknown): StoredAuth => parseStoredAuth(typeof record === 'string' ? record : JSON.stringify(record), 'fp');
const resolve = (record: unknown, options: Partial<ResolveOptions> = {}) =>
  resolveSnapshot(record === undefined ? { kind: 'missing' } : stored(record), { preferredAuthMethod: 'chatgpt', storage: 'file', ...options });

async function tokens(claims: Record<string, unknown>) {
  return { id_token: await makeJwt(claims), access_token: await makeJwt(claims), refresh_token: 'rt' };
}
const withPlan = (plan: unknown, email: unknown = 'u@example.com') => tokens({ email, [AUTH_CLAIM]: { chatgpt_plan_type: plan } });

test('no auth.json: a non-empty OPENAI_API_KEY is apikey; empty or unset is signed out', () => {
  assert.deepEqual(
    { method: resolve(undefined, { envApiKey: 'sk-env' }).authMethod, token: resolve(undefined, { envApiKey: 'sk-env' }).authToken },
    { method: 'apikey', token: 'sk-env' },
  );
  assert.equal(resolve(undefined, { envApiKey: 'sk-env' }).source, 'env');
  for (const envApiKey of ['', undefined]) {
    const snapshot = resolve(undefined, { envApiKey });
    assert.equal(snapshot.authMethod, undefined);
    assert.equal(snapshot.authError, undefined, 'no file is not an error');
    assert.equal(snapshot.source, 'none');
  }
  // codex does not trim: a key of spaces is a key.
  assert.equal(resolve(undefined, { envApiKey: '  ' }).authToken, '  ');
});

test('an auth.json, whatever it holds, hides OPENAI_API_KEY from the environment', async () => {
  const cases: [string, unknown][] = [
    ['{}', {}],
    ['a null key', { OPENAI_API_KEY: null }],
    ['garbage', '{not json'],
    ['tokens only', { OPENAI_API_KEY: null, tokens: await withPlan('enterprise'), last_refresh: NOW }],
  ];
  for (const [name, record] of cases) {
    const snapshot = resolve(record, { envApiKey: 'sk-env', preferredAuthMethod: 'apikey' });
    assert.notEqual(snapshot.authToken, 'sk-env', name);
    assert.notEqual(snapshot.source, 'env', name);
  }
});

test('a key and no tokens is apikey, whatever is preferred', () => {
  for (const preferredAuthMethod of ['chatgpt', 'apikey'] as const) {
    for (const record of [{ OPENAI_API_KEY: 'sk-file' }, { OPENAI_API_KEY: 'sk-file', tokens: null, last_refresh: null }]) {
      const snapshot = resolve(record, { preferredAuthMethod, envApiKey: 'sk-env' });
      assert.equal(snapshot.authMethod, 'apikey');
      assert.equal(snapshot.authToken, 'sk-file');
      assert.equal(snapshot.source, 'file');
    }
  }
});

test('tokens and no key is chatgpt with the access token, whatever is preferred or planned', async () => {
  for (const plan of ['enterprise', 'plus', undefined]) {
    const t = await withPlan(plan);
    const snapshot = resolve({ OPENAI_API_KEY: null, tokens: t, last_refresh: NOW }, { preferredAuthMethod: 'apikey', envApiKey: 'sk-env' });
    assert.equal(snapshot.authMethod, 'chatgpt', `plan ${plan}`);
    assert.equal(snapshot.authToken, t.access_token);
  }
});

test('a key and tokens: preferred apikey always means apikey', async () => {
  for (const plan of ['plus', 'pro', 'enterprise']) {
    const snapshot = resolve({ OPENAI_API_KEY: 'sk-file', tokens: await withPlan(plan, 'x@openai.com'), last_refresh: NOW }, { preferredAuthMethod: 'apikey' });
    assert.equal(snapshot.authMethod, 'apikey');
    assert.equal(snapshot.authToken, 'sk-file');
  }
});

test("a key and tokens, preferred chatgpt: codex's should_use_api_key table", async () => {
  const table: [plan: unknown, email: unknown, expected: 'chatgpt' | 'apikey'][] = [
    ['free', 'u@example.com', 'chatgpt'],
    ['plus', 'u@example.com', 'chatgpt'],
    ['pro', 'u@example.com', 'chatgpt'],
    ['team', 'u@example.com', 'chatgpt'],
    ['business', 'u@example.com', 'apikey'],
    ['enterprise', 'u@example.com', 'apikey'],
    ['edu', 'u@example.com', 'apikey'],
    ['go', 'u@example.com', 'apikey'], // unknown to 0.25
    ['', 'u@example.com', 'apikey'],
    [undefined, 'u@example.com', 'apikey'], // no plan claim
    [null, 'u@example.com', 'apikey'],
    // The plan is compared case-sensitively by 0.25 ("Plus" is an unknown plan there).
    ['Plus', 'u@example.com', 'apikey'],
    // An OpenAI email wins over the plan: trimmed and lower-cased, and only the exact domain.
    ['enterprise', 'someone@openai.com', 'chatgpt'],
    ['enterprise', ' Someone@OpenAI.COM ', 'chatgpt'],
    [undefined, 'someone@openai.com', 'chatgpt'],
    ['enterprise', 'someone@sub.openai.com', 'apikey'],
    ['enterprise', 'someone@openai.com.evil', 'apikey'],
    ['pro', undefined, 'chatgpt'],
    ['pro', null, 'chatgpt'],
  ];
  for (const [plan, email, expected] of table) {
    const claims: Record<string, unknown> = { ...(email !== undefined && { email }) };
    if (plan !== undefined) claims[AUTH_CLAIM] = { chatgpt_plan_type: plan };
    const t = await tokens(claims);
    const snapshot = resolve({ OPENAI_API_KEY: 'sk-file', tokens: t, last_refresh: NOW });
    assert.equal(snapshot.authMethod, expected, `plan ${JSON.stringify(plan)}, email ${JSON.stringify(email)}`);
    assert.equal(snapshot.authToken, expected === 'apikey' ? 'sk-file' : t.access_token);
  }
});

test('only the top-level email claim counts for the OpenAI-email rule (0.25 has no profile fallback)', async () => {
  const t = await tokens({ [PROFILE_CLAIM]: { email: 'someone@openai.com' }, [AUTH_CLAIM]: { chatgpt_plan_type: 'enterprise' } });
  const snapshot = resolve({ OPENAI_API_KEY: 'sk-file', tokens: t, last_refresh: NOW });
  assert.equal(snapshot.authMethod, 'apikey');
  // The profile email is still what clients are shown.
  assert.equal(snapshot.account?.email, 'someone@openai.com');
});

test('the account comes from the id_token, with tokens.account_id as the fallback', async () => {
  const t = { ...(await identityJwt({ email: 'a@example.com', planType: 'Pro', accountId: 'acct-claim' }).then(async (jwt) => ({ id_token: jwt, access_token: jwt, refresh_token: 'rt' }))), account_id: 'acct-stored' };
  assert.deepEqual(resolve({ tokens: t, last_refresh: NOW }).account, { email: 'a@example.com', planType: 'pro', accountId: 'acct-claim' });
  const noClaim = { ...(await tokens({ email: 'b@example.com' })), account_id: 'acct-stored' };
  assert.deepEqual(resolve({ tokens: noClaim, last_refresh: NOW }).account, { email: 'b@example.com', accountId: 'acct-stored' });
});

test('records 0.25 loads but reports no method for: signed out, with an authError here', async () => {
  const cases: [string, unknown, RegExp][] = [
    ['an empty key, no tokens', { OPENAI_API_KEY: '' }, /OPENAI_API_KEY is empty/],
    ['an empty key that wins over tokens', { OPENAI_API_KEY: '', tokens: await withPlan('enterprise'), last_refresh: NOW }, /OPENAI_API_KEY is empty/],
    ['ChatGPT tokens without last_refresh', { OPENAI_API_KEY: null, tokens: await withPlan('plus') }, /no last_refresh/],
    ['ChatGPT tokens with a null last_refresh', { tokens: await withPlan('plus'), last_refresh: null }, /no last_refresh/],
    ['an empty access token', { tokens: { ...(await withPlan('plus')), access_token: '' }, last_refresh: NOW }, /access_token is empty/],
  ];
  for (const [name, record, reason] of cases) {
    const snapshot = resolve(record, { envApiKey: 'sk-env' });
    assert.equal(snapshot.authMethod, undefined, name);
    assert.equal(snapshot.authToken, undefined, name);
    assert.equal(snapshot.authError?.code, 'auth_file_unreadable', name);
    assert.match(snapshot.authError!.message, reason, name);
  }
  // An empty key with a ChatGPT plan: the tokens win, as in 0.25, and the empty key does not matter.
  assert.equal(resolve({ OPENAI_API_KEY: '', tokens: await withPlan('plus'), last_refresh: NOW }).authMethod, 'chatgpt');
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
    ['id_token not a JWT', { OPENAI_API_KEY: 'sk', tokens: { ...good, id_token: 'x' }, last_refresh: NOW }, /id_token/],
    ['id_token unsecured (empty signature)', { tokens: { ...good, id_token: await makeJwt({ email: 'u@x.y' }, { alg: 'none' }) }, last_refresh: NOW }, /id_token/],
    ['id_token email a number', { OPENAI_API_KEY: 'sk', tokens: await withPlan('pro', 5), last_refresh: NOW }, /id_token/],
    ['id_token plan a number', { OPENAI_API_KEY: 'sk', tokens: await withPlan(5), last_refresh: NOW }, /id_token/],
  ];
  for (const [name, record, reason] of cases) {
    const snapshot = resolve(record, { envApiKey: 'sk-env', preferredAuthMethod: 'apikey' });
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
    resolveSnapshot({ kind: 'missing' }, { preferredAuthMethod: 'chatgpt', ...options }),
    resolveSnapshot({ kind: 'unusable', reason: 'locked', fingerprint: 'f', code: 'keyring_unavailable' }, { preferredAuthMethod: 'chatgpt', ...options }),
    resolveSnapshot(stored({ OPENAI_API_KEY: 'sk' }), { preferredAuthMethod: 'chatgpt', ...options }),
    resolveSnapshot(stored({ tokens: { ...(await withPlan('plus')), id_token: 'bad' }, last_refresh: NOW }), { preferredAuthMethod: 'chatgpt', ...options }),
    resolveSnapshot(stored({ tokens: await withPlan('plus') }), { preferredAuthMethod: 'chatgpt', ...options }),
  ];
  for (const snapshot of outcomes) {
    assert.equal(snapshot.storage, 'keyring');
    assert.equal(snapshot.storageWarning, 'fell back');
  }
  assert.equal(outcomes[1]!.authError?.code, 'keyring_unavailable', 'a store-specific code is kept');
});
