/**
 * The embedded oidc-provider issuer, exercised the way clients use it, with plain fetch: the
 * browser sign-in (authorize → login page → consent → redirect to the loopback callback), the
 * code exchange, refresh as codex sends it (JSON) with rotation and reuse detection, the API-key
 * token exchange, the ChatGPT device-code flow and revocation. Then the standalone entry, and
 * the scripted fake issuer's faults (hang, drop, delay, Retry-After, rotation).
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { request as httpRequest } from 'node:http';
import { createServer, connect } from 'node:net';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { test } from 'node:test';
import { demoUserId, startEmbeddedIssuer, type EmbeddedIssuer, type EmbeddedIssuerOptions } from '../dev/issuer/embedded-issuer.js';
import { CLIENT_ID } from '../src/protocol/login.js';
import { RotatingTokens, startFakeIssuer, TOKEN_EXCHANGE_GRANT } from '../dev/fakes/fake-issuer.js';
import { AUTH_CLAIM, identityJwt, jwtPayload, makeJwt, openAiClaims } from '../dev/jwt.js';

type T = { after(fn: () => unknown): void };

async function issuer(t: T, options: EmbeddedIssuerOptions = {}): Promise<EmbeddedIssuer> {
  const started = await startEmbeddedIssuer(options);
  t.after(() => started.close());
  return started;
}

function pkce() {
  const verifier = randomBytes(32).toString('base64url');
  return { verifier, challenge: createHash('sha256').update(verifier).digest('base64url') };
}

/** The authorize URL codex 0.25 builds. */
function authorizeUrl(issuerUrl: string, options: { port?: number; challenge?: string | null; state?: string; scope?: string } = {}) {
  const params = new URLSearchParams({
    response_type: 'code',
    client_id: CLIENT_ID,
    redirect_uri: `http://localhost:${options.port ?? 1455}/auth/callback`,
    scope: options.scope ?? 'openid profile email offline_access',
    ...(options.challenge !== null && { code_challenge: options.challenge ?? pkce().challenge, code_challenge_method: 'S256' }),
    id_token_add_organizations: 'true',
    codex_cli_simplified_flow: 'true',
    state: options.state ?? randomBytes(32).toString('base64url'),
  });
  return `${issuerUrl}/oauth/authorize?${params.toString().replace(/\+/g, '%20')}`;
}

/** A cookie jar and manual redirects: what a browser does, step by step. */
class PlainBrowser {
  private readonly cookies = new Map<string, string>();

  async go(url: string, form?: Record<string, string>): Promise<Response> {
    const response = await fetch(url, {
      method: form ? 'POST' : 'GET',
      redirect: 'manual',
      headers: {
        cookie: [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; '),
        ...(form && { 'content-type': 'application/x-www-form-urlencoded' }),
      },
      ...(form && { body: new URLSearchParams(form).toString() }),
    });
    for (const header of response.headers.getSetCookie()) {
      const pair = header.split(';')[0]!;
      const eq = pair.indexOf('=');
      const [name, value] = [pair.slice(0, eq), pair.slice(eq + 1)];
      if (value === '' || /expires=Thu, 01 Jan 1970/i.test(header)) this.cookies.delete(name);
      else this.cookies.set(name, value);
    }
    return response;
  }

  /** Follows redirects on the issuer until a page (200/400) or a redirect off the issuer. */
  async follow(url: string, issuerUrl: string, form?: Record<string, string>): Promise<{ response: Response; url: string }> {
    let response = await this.go(url, form);
    let current = url;
    for (let hops = 0; hops < 10 && response.status >= 300 && response.status < 400; hops++) {
      const next = new URL(response.headers.get('location')!, current).href;
      if (!next.startsWith(issuerUrl)) return { response, url: next };
      current = next;
      response = await this.go(current);
    }
    return { response, url: current };
  }
}

function formAction(html: string, base: string, id: string): string {
  const form = new RegExp(`<form id="${id}"[^>]*action="([^"]+)"`).exec(html);
  assert.ok(form, `a form #${id} in the page: ${html.slice(0, 200)}`);
  return new URL(form[1]!.replace(/&amp;/g, '&'), base).href;
}

/** Signs in through the login and consent pages; returns the callback URL the issuer redirects to. */
async function signIn(issuerUrl: string, authUrl: string, email = 'demo@example.com', password = 'demo'): Promise<URL> {
  const browser = new PlainBrowser();
  const login = await browser.follow(authUrl, issuerUrl);
  assert.equal(login.response.status, 200);
  const loginHtml = await login.response.text();
  assert.match(loginHtml, /<input name="login"/);
  assert.match(loginHtml, /<input name="password" type="password"/);
  const consent = await browser.follow(formAction(loginHtml, login.url, 'login-form'), issuerUrl, { prompt: 'login', login: email, password });
  assert.equal(consent.response.status, 200);
  const consentHtml = await consent.response.text();
  assert.match(consentHtml, /<button id="continue" type="submit"[^>]*>Continue<\/button>/);
  const done = await browser.follow(formAction(consentHtml, consent.url, 'consent-form'), issuerUrl, { prompt: 'consent' });
  assert.equal(done.response.status, 303);
  return new URL(done.url);
}

async function postForm(url: string, form: Record<string, string>) {
  const response = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams(form).toString() });
  return { status: response.status, json: (await response.json().catch(() => undefined)) as Record<string, any> };
}

async function postJson(url: string, body: unknown) {
  const response = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  return { status: response.status, json: (await response.json().catch(() => undefined)) as Record<string, any> };
}

async function exchangeCode(issuerUrl: string, code: string, verifier: string, redirectUri: string) {
  return postForm(`${issuerUrl}/oauth/token`, { grant_type: 'authorization_code', client_id: CLIENT_ID, code, code_verifier: verifier, redirect_uri: redirectUri });
}

/** codex's refresh request: JSON, with the narrower scope. */
function refreshJson(issuerUrl: string, refreshToken: string) {
  return postJson(`${issuerUrl}/oauth/token`, { client_id: CLIENT_ID, grant_type: 'refresh_token', refresh_token: refreshToken, scope: 'openid profile email' });
}

/** Signs in as `email` and exchanges the code: the token response. */
async function tokensFor(issuerUrl: string, email = 'demo@example.com', port = 1455) {
  const { verifier, challenge } = pkce();
  const callback = await signIn(issuerUrl, authorizeUrl(issuerUrl, { challenge, port }), email);
  const exchanged = await exchangeCode(issuerUrl, callback.searchParams.get('code')!, verifier, `http://localhost:${port}/auth/callback`);
  assert.equal(exchanged.status, 200, JSON.stringify(exchanged.json));
  return exchanged.json as { id_token: string; access_token: string; refresh_token: string; expires_in: number };
}

// ---------------------------------------------------------------------------------------------
// the embedded issuer

test('discovery: codex routes, PKCE S256 only, revocation', async (t) => {
  const { url } = await issuer(t);
  assert.match(url, /^http:\/\/127\.0\.0\.1:\d+$/);
  const discovery = (await (await fetch(`${url}/.well-known/openid-configuration`)).json()) as Record<string, unknown>;
  assert.equal(discovery['issuer'], url);
  assert.equal(discovery['authorization_endpoint'], `${url}/oauth/authorize`);
  assert.equal(discovery['token_endpoint'], `${url}/oauth/token`);
  assert.equal(discovery['revocation_endpoint'], `${url}/oauth/revoke`);
  assert.deepEqual(discovery['code_challenge_methods_supported'], ['S256']);
});

test('browser sign-in with PKCE on any loopback port: login, consent, code; the exchange gives JWTs with the OpenAI claims', async (t) => {
  const embedded = await issuer(t, { accessTokenTtlSecs: 120 });
  const { verifier, challenge } = pkce();
  const state = randomBytes(32).toString('base64url');
  const port = 54321; // not registered: the native client's loopback rule allows any port
  const callback = await signIn(embedded.url, authorizeUrl(embedded.url, { challenge, state, port }), 'pro@example.com');
  assert.equal(`${callback.origin}${callback.pathname}`, `http://localhost:${port}/auth/callback`);
  assert.equal(callback.searchParams.get('state'), state);
  assert.equal(callback.searchParams.get('iss'), embedded.url);
  const code = callback.searchParams.get('code')!;
  assert.ok(code.length >= 16);

  const exchanged = await exchangeCode(embedded.url, code, verifier, `http://localhost:${port}/auth/callback`);
  assert.equal(exchanged.status, 200, JSON.stringify(exchanged.json));
  const { id_token, access_token, refresh_token, expires_in } = exchanged.json;
  assert.equal(typeof refresh_token, 'string');
  assert.equal(expires_in, 120);

  const id = jwtPayload(id_token);
  assert.equal(id['email'], 'pro@example.com');
  assert.deepEqual(id[AUTH_CLAIM], { chatgpt_plan_type: 'pro', chatgpt_account_id: 'acct-demo-0002', chatgpt_user_id: demoUserId('pro@example.com') });
  assert.equal(id['aud'], CLIENT_ID);
  assert.equal(id['iss'], embedded.url);

  const access = jwtPayload(access_token);
  assert.equal(typeof access['exp'], 'number');
  assert.equal((access['exp'] as number) - (access['iat'] as number), 120);
  assert.deepEqual(access[AUTH_CLAIM], { chatgpt_plan_type: 'pro', chatgpt_account_id: 'acct-demo-0002', chatgpt_user_id: demoUserId('pro@example.com') });
  assert.deepEqual(embedded.stats.codeExchanges, 1);
  assert.deepEqual(embedded.stats.logins, 1);

  // The code is single-use.
  const replay = await exchangeCode(embedded.url, code, verifier, `http://localhost:${port}/auth/callback`);
  assert.equal(replay.status, 400);
  assert.equal(replay.json['error'], 'invalid_grant');
});

test('the registered ports work too, and the seeded default user is plus', async (t) => {
  const { url } = await issuer(t);
  for (const port of [1455, 1457]) {
    const tokens = await tokensFor(url, 'demo@example.com', port);
    assert.deepEqual(jwtPayload(tokens.id_token)[AUTH_CLAIM], { chatgpt_plan_type: 'plus', chatgpt_account_id: 'acct-demo-0001', chatgpt_user_id: demoUserId('demo@example.com') });
  }
});

test('the login page refuses a wrong password and keeps the form', async (t) => {
  const { url } = await issuer(t);
  const browser = new PlainBrowser();
  const login = await browser.follow(authorizeUrl(url), url);
  const html = await login.response.text();
  const refused = await browser.go(formAction(html, login.url, 'login-form'), { prompt: 'login', login: 'demo@example.com', password: 'wrong' });
  assert.equal(refused.status, 400);
  const again = await refused.text();
  assert.match(again, /id="error"/);
  assert.match(again, /value="demo@example.com"/);
  // The same interaction still accepts the right password.
  const accepted = await browser.follow(formAction(again, login.url, 'login-form'), url, { prompt: 'login', login: 'demo@example.com', password: 'demo' });
  assert.match(await accepted.response.text(), />Continue</);
});

test('cancelling on the consent page redirects with access_denied', async (t) => {
  const { url } = await issuer(t);
  const browser = new PlainBrowser();
  const state = 'state-123';
  const login = await browser.follow(authorizeUrl(url, { state }), url);
  const consent = await browser.follow(formAction(await login.response.text(), login.url, 'login-form'), url, { prompt: 'login', login: 'demo@example.com', password: 'demo' });
  const html = await consent.response.text();
  const abort = /<form method="post" action="([^"]+\/abort)"/.exec(html)![1]!;
  const done = await browser.follow(new URL(abort, consent.url).href, url, {});
  const callback = new URL(done.url);
  assert.equal(callback.searchParams.get('error'), 'access_denied');
  assert.equal(callback.searchParams.get('state'), state);
});

test('PKCE is required and checked', async (t) => {
  const { url } = await issuer(t);
  const without = await new PlainBrowser().follow(authorizeUrl(url, { challenge: null, state: 's' }), url);
  const callback = new URL(without.url);
  assert.equal(callback.searchParams.get('error'), 'invalid_request');
  assert.match(callback.searchParams.get('error_description') ?? '', /PKCE/);

  const { challenge } = pkce();
  const signedIn = await signIn(url, authorizeUrl(url, { challenge }));
  const wrong = await exchangeCode(url, signedIn.searchParams.get('code')!, pkce().verifier, 'http://localhost:1455/auth/callback');
  assert.equal(wrong.status, 400);
  assert.equal(wrong.json['error'], 'invalid_grant');
});

test('refresh with codex JSON body rotates; reusing a rotated token is 401 refresh_token_reused and ends the family', async (t) => {
  const embedded = await issuer(t, { accessTokenTtlSecs: 300 });
  const first = await tokensFor(embedded.url);

  const refreshed = await refreshJson(embedded.url, first.refresh_token);
  assert.equal(refreshed.status, 200, JSON.stringify(refreshed.json));
  assert.notEqual(refreshed.json['refresh_token'], first.refresh_token);
  assert.notEqual(refreshed.json['access_token'], first.access_token);
  const access = jwtPayload(refreshed.json['access_token']);
  assert.equal((access['exp'] as number) - (access['iat'] as number), 300);
  assert.equal(jwtPayload(refreshed.json['id_token'])['email'], 'demo@example.com');
  assert.deepEqual(jwtPayload(refreshed.json['id_token'])[AUTH_CLAIM], { chatgpt_plan_type: 'plus', chatgpt_account_id: 'acct-demo-0001', chatgpt_user_id: demoUserId('demo@example.com') });

  // A form-encoded refresh works as well, and rotates again.
  const again = await postForm(`${embedded.url}/oauth/token`, { grant_type: 'refresh_token', client_id: CLIENT_ID, refresh_token: refreshed.json['refresh_token'] });
  assert.equal(again.status, 200, JSON.stringify(again.json));
  assert.equal(embedded.stats.refreshes, 2);

  const reused = await refreshJson(embedded.url, first.refresh_token);
  assert.equal(reused.status, 401);
  assert.equal(reused.json['error']['code'], 'refresh_token_reused');
  assert.equal(embedded.stats.refreshReuses, 1);

  // Reuse revokes the grant: the newest refresh token is dead too.
  const newest = await refreshJson(embedded.url, again.json['refresh_token']);
  assert.equal(newest.status, 400);
  assert.equal(newest.json['error'], 'invalid_grant');
  assert.equal(embedded.stats.refreshFailures, 2);
});

test("refreshErrors: 'oauth' answers reuse with oidc-provider's 400 invalid_grant", async (t) => {
  const embedded = await issuer(t, { refreshErrors: 'oauth' });
  const first = await tokensFor(embedded.url);
  assert.equal((await refreshJson(embedded.url, first.refresh_token)).status, 200);
  const reused = await refreshJson(embedded.url, first.refresh_token);
  assert.equal(reused.status, 400);
  assert.equal(reused.json['error'], 'invalid_grant');
  assert.equal(embedded.stats.refreshReuses, 1);
});

test('an expired refresh token is 401 refresh_token_expired', async (t) => {
  const embedded = await issuer(t, { refreshTokenTtlSecs: 1 });
  const { refresh_token } = await tokensFor(embedded.url);
  const issuedBy = Date.now();
  // Expiry has no event to await: wait until the whole second after its `exp` has begun.
  await new Promise((resolve) => setTimeout(resolve, (Math.floor(issuedBy / 1000) + 2) * 1000 - Date.now()));
  const expired = await refreshJson(embedded.url, refresh_token);
  assert.equal(expired.status, 401);
  assert.equal(expired.json['error']['code'], 'refresh_token_expired');
  assert.equal(embedded.stats.refreshReuses, 0);
});

test('token endpoint: a malformed JSON body is 400 invalid_request; an unknown refresh token is invalid_grant', async (t) => {
  const { url } = await issuer(t);
  const response = await fetch(`${url}/oauth/token`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{not json' });
  assert.equal(response.status, 400);
  assert.equal(((await response.json()) as Record<string, string>)['error'], 'invalid_request');
  const unknown = await refreshJson(url, 'no-such-token');
  assert.equal(unknown.status, 400);
  assert.equal(unknown.json['error'], 'invalid_grant');
});

test('API-key token exchange: id_token in, sk- key out; a foreign id_token is refused', async (t) => {
  const embedded = await issuer(t);
  const { id_token } = await tokensFor(embedded.url);
  const exchange = (subject: string) =>
    postForm(`${embedded.url}/oauth/token`, {
      grant_type: TOKEN_EXCHANGE_GRANT,
      client_id: CLIENT_ID,
      requested_token: 'openai-api-key',
      subject_token: subject,
      subject_token_type: 'urn:ietf:params:oauth:token-type:id_token',
    });
  const exchanged = await exchange(id_token);
  assert.equal(exchanged.status, 200, JSON.stringify(exchanged.json));
  assert.match(exchanged.json['access_token'], /^sk-demo-[0-9a-f]{32}$/);
  assert.equal(embedded.stats.apiKeyExchanges, 1);

  const foreign = await exchange(await identityJwt({ email: 'x@example.com', planType: 'plus', accountId: 'a' }));
  assert.equal(foreign.status, 400);
  assert.equal(foreign.json['error'], 'invalid_grant');
  assert.equal(embedded.stats.apiKeyExchanges, 1);
});

test('device code: user code, 403 while pending, approval, then a real code that exchanges at /oauth/token', async (t) => {
  const embedded = await issuer(t, { deviceCodeInterval: 2 });
  const started = await postJson(`${embedded.url}/api/accounts/deviceauth/usercode`, { client_id: CLIENT_ID });
  assert.equal(started.status, 200);
  const { device_auth_id, user_code, interval } = started.json;
  assert.equal(typeof device_auth_id, 'string');
  assert.match(user_code, /^[A-Z0-9]{4}-[A-Z0-9]{5}$/);
  assert.equal(interval, '2');

  const poll = () => postJson(`${embedded.url}/api/accounts/deviceauth/token`, { device_auth_id, user_code });
  assert.equal((await poll()).status, 403);
  await embedded.approveDeviceCode(user_code, 'pro@example.com');
  const approved = await poll();
  assert.equal(approved.status, 200, JSON.stringify(approved.json));
  const { authorization_code, code_challenge, code_verifier } = approved.json;
  assert.equal(createHash('sha256').update(code_verifier).digest('base64url'), code_challenge);
  assert.equal(embedded.stats.devicePolls, 2);
  assert.equal(embedded.stats.deviceUserCodes, 1);

  const exchanged = await exchangeCode(embedded.url, authorization_code, code_verifier, `${embedded.url}/deviceauth/callback`);
  assert.equal(exchanged.status, 200, JSON.stringify(exchanged.json));
  assert.deepEqual(jwtPayload(exchanged.json['id_token'])[AUTH_CLAIM], { chatgpt_plan_type: 'pro', chatgpt_account_id: 'acct-demo-0002', chatgpt_user_id: demoUserId('pro@example.com') });
  assert.equal(typeof jwtPayload(exchanged.json['access_token'])['exp'], 'number');
  // …and its refresh token rotates like any other.
  assert.equal((await refreshJson(embedded.url, exchanged.json['refresh_token'])).status, 200);
  await assert.rejects(embedded.approveDeviceCode('NOPE-NOPE0'));
});

test('device code: the /codex/device page approves a code a person types; interval null is left out', async (t) => {
  const embedded = await issuer(t, { deviceCodeInterval: null });
  const started = await postJson(`${embedded.url}/api/accounts/deviceauth/usercode`, { client_id: CLIENT_ID });
  assert.equal('interval' in started.json, false);
  const pageHtml = await (await fetch(`${embedded.url}/codex/device`)).text();
  assert.match(pageHtml, /name="user_code"/);
  assert.match(pageHtml, /name="email"/);
  const submitted = await postForm(`${embedded.url}/codex/device`, { user_code: started.json['user_code'].toLowerCase(), email: 'demo@example.com' }).catch(() => undefined);
  assert.ok(submitted);
  const polled = await postJson(`${embedded.url}/api/accounts/deviceauth/token`, { device_auth_id: started.json['device_auth_id'], user_code: started.json['user_code'] });
  assert.equal(polled.status, 200);
  assert.equal(typeof polled.json['authorization_code'], 'string');
});

test('revocation: 200 for the public client, and the revoked refresh token no longer works', async (t) => {
  const embedded = await issuer(t);
  const tokens = await tokensFor(embedded.url);
  const revoked = await fetch(`${embedded.url}/oauth/revoke`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ client_id: CLIENT_ID, token: tokens.refresh_token, token_type_hint: 'refresh_token' }).toString(),
  });
  assert.equal(revoked.status, 200);
  assert.equal(embedded.stats.revocations, 1);
  const refreshed = await refreshJson(embedded.url, tokens.refresh_token);
  assert.equal(refreshed.status, 400);
  assert.equal(refreshed.json['error'], 'invalid_grant');
});

test('close() frees the port and ends open keep-alive connections; only loopback hosts are accepted', async () => {
  const embedded = await startEmbeddedIssuer();
  const port = Number(new URL(embedded.url).port);
  // An idle keep-alive connection and a half-sent request both stay open until close().
  const idle = connect(port, '127.0.0.1');
  await once(idle, 'connect');
  const partial = httpRequest({ host: '127.0.0.1', port, method: 'POST', path: '/oauth/token', headers: { 'content-type': 'application/json', 'content-length': '100' } });
  partial.on('error', () => {});
  partial.write('{');
  const idleClosed = once(idle, 'close');
  await embedded.close();
  await idleClosed;
  await embedded.close(); // idempotent
  const free = await new Promise<boolean>((resolve) => {
    const probe = createServer();
    probe.once('error', () => resolve(false));
    probe.listen({ port, host: '127.0.0.1', exclusive: true }, () => probe.close(() => resolve(true)));
  });
  assert.equal(free, true);
  await assert.rejects(startEmbeddedIssuer({ host: '0.0.0.0' }), /loopback only/);
});

test('standalone entry: one JSON line on stdout, a full sign-in against it, nothing else on stdout, exit 0 at stdin EOF', async (t) => {
  const entry = fileURLToPath(new URL('../dev/issuer/main.js', import.meta.url));
  const child = spawn(process.execPath, [entry, '--port', '0'], { stdio: ['pipe', 'pipe', 'pipe'] });
  t.after(() => child.kill('SIGKILL'));
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  const exited = once(child, 'exit');
  const [line] = (await once(createInterface({ input: child.stdout }), 'line')) as [string];
  const { url } = JSON.parse(line) as { url: string };
  assert.match(url, /^http:\/\/127\.0\.0\.1:\d+$/);

  const tokens = await tokensFor(url);
  const refreshed = await refreshJson(url, tokens.refresh_token);
  assert.equal(refreshed.status, 200);
  const revoked = await postForm(`${url}/oauth/revoke`, { client_id: CLIENT_ID, token: refreshed.json['refresh_token'], token_type_hint: 'refresh_token' });
  assert.equal(revoked.status, 200);

  child.stdin.end();
  const [code] = await exited;
  assert.equal(code, 0);
  assert.equal(stdout, `${line}\n`, 'nothing but the one line on stdout');
  assert.doesNotMatch(stderr, /oidc-provider/, 'no oidc-provider notices');
});

test('standalone entry: SIGTERM stops it with exit 0', async (t) => {
  const entry = fileURLToPath(new URL('../dev/issuer/main.js', import.meta.url));
  const child = spawn(process.execPath, [entry], { stdio: ['pipe', 'pipe', 'inherit'] });
  t.after(() => child.kill('SIGKILL'));
  const exited = once(child, 'exit');
  await once(createInterface({ input: child.stdout }), 'line');
  child.kill('SIGTERM');
  assert.deepEqual(await exited, [0, null]);
});

// ---------------------------------------------------------------------------------------------
// the scripted fake issuer

test('fake issuer: endpoints are told apart by path and grant_type; calls record headers and parsed bodies', async (t) => {
  const fake = await startFakeIssuer({
    onCodeExchange: (n) => ({ status: 200, json: { which: 'code', n } }),
    onTokenExchange: (n) => ({ status: 200, json: { which: 'exchange', n } }),
    onRevoke: (n) => ({ status: 200, json: { which: 'revoke', n } }),
    onDeviceUserCode: () => ({ status: 200, json: { which: 'usercode' } }),
    onDeviceToken: (n) => ({ status: 403, json: { which: 'device-token', n } }),
    onOther: (call) => ({ status: 418, json: { which: 'other', path: call.path } }),
  });
  t.after(() => fake.close());
  const token = `${fake.url}/oauth/token`;
  assert.deepEqual((await postForm(token, { grant_type: 'authorization_code', code: 'c' })).json, { which: 'code', n: 1 });
  assert.deepEqual((await postForm(token, { grant_type: 'authorization_code', code: 'c' })).json, { which: 'code', n: 2 });
  assert.deepEqual((await postForm(token, { grant_type: TOKEN_EXCHANGE_GRANT })).json, { which: 'exchange', n: 1 });
  assert.deepEqual((await postForm(`${fake.url}/oauth/revoke`, { token: 't' })).json, { which: 'revoke', n: 1 });
  assert.deepEqual((await postJson(`${fake.url}/api/accounts/deviceauth/usercode`, { client_id: CLIENT_ID })).json, { which: 'usercode' });
  const polled = await postJson(`${fake.url}/api/accounts/deviceauth/token`, { device_auth_id: 'd' });
  assert.deepEqual([polled.status, polled.json], [403, { which: 'device-token', n: 1 }]);
  // No onRefresh and no rotating server: a refresh goes to onOther.
  assert.equal((await postJson(token, { grant_type: 'refresh_token', refresh_token: 'r' })).status, 418);

  assert.equal(fake.callsTo('/oauth/token', 'authorization_code').length, 2);
  const device = fake.callsTo('/api/accounts/deviceauth/usercode')[0]!;
  assert.equal(device.method, 'POST');
  assert.equal(device.headers['content-type'], 'application/json');
  assert.deepEqual(device.body, { client_id: CLIENT_ID });
  assert.equal(fake.refreshCalls().length, 1);
});

test('fake issuer: a hanging answer never comes, and close() still ends the connection', async () => {
  const fake = await startFakeIssuer({ onRefresh: () => 'hang' });
  const pending = fetch(`${fake.url}/oauth/token`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ grant_type: 'refresh_token', refresh_token: 'r' }) });
  const outcome = pending.then(
    () => 'answered',
    () => 'failed',
  );
  await fake.waitForCall((call) => call.body['grant_type'] === 'refresh_token');
  const first = await Promise.race([outcome, new Promise((resolve) => setImmediate(() => resolve('still pending')))]);
  assert.equal(first, 'still pending');
  await fake.close();
  assert.equal(await outcome, 'failed');
});

test('fake issuer: drop destroys the socket without an answer', async (t) => {
  const fake = await startFakeIssuer({ onRevoke: (n) => (n === 1 ? 'drop' : { status: 200 }) });
  t.after(() => fake.close());
  await assert.rejects(fetch(`${fake.url}/oauth/revoke`, { method: 'POST', body: 'token=t' }), /fetch failed/);
  assert.equal((await fetch(`${fake.url}/oauth/revoke`, { method: 'POST', body: 'token=t' })).status, 200);
  assert.equal(fake.callsTo('/oauth/revoke').length, 2);
});

test('fake issuer: delayed answers, Retry-After and raw bodies', async (t) => {
  const fake = await startFakeIssuer({
    onRefresh: (n) => (n === 1 ? { status: 429, headers: { 'Retry-After': '7', 'x-unset': undefined }, delayMs: 60 } : { status: 200, body: 'not json' }),
  });
  t.after(() => fake.close());
  const startedAt = performance.now();
  const limited = await fetch(`${fake.url}/oauth/token`, { method: 'POST', body: 'grant_type=refresh_token' });
  assert.ok(performance.now() - startedAt >= 55, 'answered after the delay');
  assert.equal(limited.status, 429);
  assert.equal(limited.headers.get('retry-after'), '7');
  assert.equal(limited.headers.has('x-unset'), false);
  const raw = await fetch(`${fake.url}/oauth/token`, { method: 'POST', body: 'grant_type=refresh_token' });
  assert.equal(await raw.text(), 'not json');
});

test('fake issuer: close() cancels a delayed answer', async () => {
  const fake = await startFakeIssuer({ onRevoke: () => ({ status: 200, delayMs: 60_000 }) });
  const outcome = fetch(`${fake.url}/oauth/revoke`, { method: 'POST', body: 'token=t' }).then(
    () => 'answered',
    () => 'failed',
  );
  await fake.waitForCall((call) => call.path === '/oauth/revoke');
  await fake.close();
  assert.equal(await outcome, 'failed');
});

test('fake issuer: the rotating refresh server rotates, and answers any reuse with 401 refresh_token_reused', async (t) => {
  const rotating = new RotatingTokens('rt-initial', { email: 'r@example.com', planType: 'team', accountId: 'acct-r' }, 90);
  const fake = await startFakeIssuer({ rotating });
  t.after(() => fake.close());
  assert.equal(fake.rotating, rotating);

  const first = await refreshJson(fake.url, 'rt-initial');
  assert.equal(first.status, 200);
  assert.equal(first.json['refresh_token'], 'rt-rotated-1');
  const access = jwtPayload(first.json['access_token']);
  assert.equal((access['exp'] as number) - (access['iat'] as number), 90);
  assert.deepEqual(jwtPayload(first.json['id_token'])[AUTH_CLAIM], { chatgpt_plan_type: 'team', chatgpt_account_id: 'acct-r' });
  assert.equal(jwtPayload(first.json['id_token'])['email'], 'r@example.com');

  const reused = await refreshJson(fake.url, 'rt-initial');
  assert.deepEqual([reused.status, reused.json['error']['code']], [401, 'refresh_token_reused']);
  assert.equal(rotating.reuseErrors, 1);

  const second = await refreshJson(fake.url, 'rt-rotated-1');
  assert.equal(second.json['refresh_token'], 'rt-rotated-2');
  assert.equal(rotating.current, 'rt-rotated-2');
  assert.equal(rotating.rotations, 2);
  // A token it never issued is refused the same way, but is not counted as reuse.
  assert.equal((await refreshJson(fake.url, 'rt-never-issued')).status, 401);
  assert.equal(rotating.reuseErrors, 1);
});

test('makeJwt: HS256 or unsecured, exp from options, claims kept', async () => {
  const now = Math.floor(Date.now() / 1000);
  const signed = await makeJwt(openAiClaims({ email: 'j@example.com', planType: 'pro', accountId: 'acct-j' }), { expiresInSecs: 30 });
  assert.match(signed, /^[\w-]+\.[\w-]+\.[\w-]+$/);
  const payload = jwtPayload(signed);
  assert.ok(Math.abs((payload['exp'] as number) - (now + 30)) <= 1);
  assert.deepEqual(payload[AUTH_CLAIM], { chatgpt_plan_type: 'pro', chatgpt_account_id: 'acct-j' });
  assert.equal(payload['email'], 'j@example.com');

  const unsecured = await makeJwt({ sub: 'x' }, { alg: 'none', exp: 12345 });
  assert.ok(unsecured.endsWith('.'));
  assert.equal(jwtPayload(unsecured)['exp'], 12345);
  assert.equal('exp' in jwtPayload(await makeJwt({}, { exp: null })), false);
});
