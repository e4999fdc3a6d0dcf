/**
 * JWT claim decoding: the lenient reader (claims shown to clients, access-token expiry) and the
 * strict one that reads an id_token exactly as codex 0.25's `parse_id_token` (which decides
 * whether auth.json can be used at all, and which auth method is in force).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { readCodexIdTokenClaims, readTokenClaims, tryReadTokenClaims } from '../workers/shared/jwt-claims.js';
import { AUTH_CLAIM, makeJwt, PROFILE_CLAIM } from '../dev/jwt.js';

const b64 = (value: unknown) => Buffer.from(typeof value === 'string' ? value : JSON.stringify(value), 'utf8').toString('base64url');
/** A JWT with an arbitrary payload part and a non-empty fake signature (nobody checks it). */
const rawJwt = (payloadPart: string, signature = 'c2ln') => `${b64({ alg: 'none' })}.${payloadPart}.${signature}`;

test('readTokenClaims: email, plan (lower-cased), account id and exp in milliseconds', async () => {
  const jwt = await makeJwt({ email: 'a@b.c', [AUTH_CLAIM]: { chatgpt_plan_type: 'Team', chatgpt_account_id: 'acct-7' } }, { exp: 1_900_000_000 });
  assert.deepEqual(readTokenClaims(jwt), { email: 'a@b.c', planType: 'team', accountId: 'acct-7', expiresAt: 1_900_000_000_000 });
});

test('readTokenClaims: the profile claim supplies an email the top level lacks', async () => {
  const jwt = await makeJwt({ [PROFILE_CLAIM]: { email: 'p@example.com' } }, { exp: null });
  assert.deepEqual(readTokenClaims(jwt), { email: 'p@example.com' });
  const both = await makeJwt({ email: 'top@example.com', [PROFILE_CLAIM]: { email: 'p@example.com' } }, { exp: null });
  assert.equal(readTokenClaims(both).email, 'top@example.com', 'the top-level claim wins');
});

test('readTokenClaims: claims of the wrong type or empty are left out, not thrown', async () => {
  const jwt = await makeJwt({ email: 42, [AUTH_CLAIM]: { chatgpt_plan_type: '', chatgpt_account_id: ['x'] } }, { exp: null });
  assert.deepEqual(readTokenClaims(jwt), {});
  const stringExp = await makeJwt({ exp: 'tomorrow' }, { exp: null });
  assert.equal(readTokenClaims(stringExp).expiresAt, undefined);
  assert.deepEqual(readTokenClaims(await makeJwt({ [AUTH_CLAIM]: 'pro' }, { exp: null })), {});
});

test('tryReadTokenClaims: an opaque access token is undefined, not an error', () => {
  for (const token of ['', 'opaque', 'a.b', 'a.!!!.c', rawJwt(b64('not json'))]) {
    assert.equal(tryReadTokenClaims(token), undefined, token);
  }
});

test('readCodexIdTokenClaims: top-level email and the plan exactly as stored', async () => {
  const jwt = await makeJwt({
    email: ' Someone@OpenAI.com ',
    [PROFILE_CLAIM]: { email: 'other@example.com' },
    [AUTH_CLAIM]: { chatgpt_plan_type: 'Plus' },
  });
  // No trimming, no case folding, no profile fallback: codex 0.25 compares these itself.
  assert.deepEqual(readCodexIdTokenClaims(jwt), { email: ' Someone@OpenAI.com ', planType: 'Plus' });
  assert.deepEqual(readCodexIdTokenClaims(await makeJwt({ [PROFILE_CLAIM]: { email: 'p@x.y' } })), {});
});

test('readCodexIdTokenClaims: null claims are "absent", as serde reads Option<T>', () => {
  assert.deepEqual(readCodexIdTokenClaims(rawJwt(b64({ email: null, [AUTH_CLAIM]: null }))), {});
  assert.deepEqual(readCodexIdTokenClaims(rawJwt(b64({ email: 'e@x.y', [AUTH_CLAIM]: { chatgpt_plan_type: null } }))), { email: 'e@x.y' });
  assert.deepEqual(readCodexIdTokenClaims(rawJwt(b64({}))), {});
});

test('readCodexIdTokenClaims: everything codex 0.25 cannot parse throws', async () => {
  const valid = b64({ email: 'u@example.com' });
  const padded = Buffer.from(JSON.stringify({ email: 'ab@x.co' })).toString('base64').replace(/\+/g, '-').replace(/\//g, '_');
  assert.ok(padded.endsWith('='), 'the fixture really is padded');
  const cases: [string, string][] = [
    ['empty', ''],
    ['two parts', `${b64({ alg: 'none' })}.${valid}`],
    ['empty header', `.${valid}.c2ln`],
    ['empty payload', `${b64({ alg: 'none' })}..c2ln`],
    ['empty signature (an unsecured JWT)', await makeJwt({ email: 'u@example.com' }, { alg: 'none' })],
    ['padded base64url', rawJwt(padded)],
    ['standard base64 alphabet', rawJwt(valid.replace(/-/g, '+').replace(/_/g, '/') + '+/')],
    ['payload not JSON', rawJwt(b64('nope'))],
    ['payload an array', rawJwt(b64([1]))],
    ['payload a string', rawJwt(b64('"x"'))],
    ['payload not UTF-8', rawJwt(Buffer.from([0x7b, 0x22, 0xff, 0x22, 0x3a, 0x31, 0x7d]).toString('base64url'))],
    ['email a number', rawJwt(b64({ email: 5 }))],
    ['auth claim a string', rawJwt(b64({ [AUTH_CLAIM]: 'pro' }))],
    ['auth claim an array', rawJwt(b64({ [AUTH_CLAIM]: [] }))],
    ['plan a number', rawJwt(b64({ [AUTH_CLAIM]: { chatgpt_plan_type: 5 } }))],
    ['plan an object', rawJwt(b64({ [AUTH_CLAIM]: { chatgpt_plan_type: { name: 'pro' } } }))],
  ];
  for (const [name, jwt] of cases) assert.throws(() => readCodexIdTokenClaims(jwt), Error, name);
});

test('readCodexIdTokenClaims: header and signature are never decoded; parts after the third are ignored', () => {
  const payload = b64({ email: 'u@example.com' });
  assert.deepEqual(readCodexIdTokenClaims(`!!!.${payload}.???`), { email: 'u@example.com' });
  assert.deepEqual(readCodexIdTokenClaims(`${b64({ alg: 'none' })}.${payload}.c2ln.extra`), { email: 'u@example.com' });
});

test('property: any string email and plan survive a round trip through both readers', () => {
  fc.assert(
    fc.property(fc.option(fc.string(), { nil: undefined }), fc.option(fc.string(), { nil: undefined }), (email, plan) => {
      const claims = { ...(email !== undefined && { email }), [AUTH_CLAIM]: plan === undefined ? {} : { chatgpt_plan_type: plan } };
      const jwt = rawJwt(b64(claims));
      assert.deepEqual(readCodexIdTokenClaims(jwt), { ...(email !== undefined && { email }), ...(plan !== undefined && { planType: plan }) });
      const lenient = readTokenClaims(jwt);
      assert.equal(lenient.email, email === '' ? undefined : email);
      assert.equal(lenient.planType, plan === '' || plan === undefined ? undefined : plan.toLowerCase());
    }),
    { numRuns: 300, seed: 20251 },
  );
});

test('property: the strict reader never accepts what the lenient one rejects', () => {
  // Random three-part tokens: whenever codex's reading succeeds, jose's does too, so the account
  // shown to clients is there for every record the method resolution accepts.
  const part = fc.string({ unit: fc.constantFrom(...'AZaz09-_=+/!e3'.split('')), maxLength: 12 });
  const payload = fc.oneof(part, fc.json().map((json) => b64(json)));
  fc.assert(
    fc.property(payload, part, (b, c) => {
      const jwt = `${b64({ alg: 'none' })}.${b}.${c}`;
      let strict = true;
      try {
        readCodexIdTokenClaims(jwt);
      } catch {
        strict = false;
      }
      if (strict) assert.notEqual(tryReadTokenClaims(jwt), undefined, jwt);
    }),
    { numRuns: 500, seed: 7 },
  );
});
