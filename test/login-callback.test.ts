/** The callback server as a raw HTTP client sees it: the checks that keep a sign-in safe. */
import assert from 'node:assert/strict';
import { request as httpRequest } from 'node:http';
import { connect } from 'node:net';
import { test } from 'node:test';
import { signInAtIssuer } from '../dev/issuer/scripted-sign-in.js';
import { callbackPortOf, embeddedLoginSetup } from './support/login-servers.js';

async function loginStarted(t: { after(fn: () => unknown): void }) {
  const { issuer, home, client } = await embeddedLoginSetup(t);
  const { loginId, authUrl } = await client.call('loginChatGpt');
  const port = callbackPortOf(authUrl);
  const state = new URL(authUrl).searchParams.get('state')!;
  return { issuer, home, client, loginId, authUrl, port, state };
}

/** A request with full control of method and headers (Host included). */
function raw(port: number, path: string, options: { method?: string; host?: string; headers?: Record<string, string> } = {}) {
  return new Promise<{ status: number; body: string; headers: Record<string, unknown> }>((resolve, reject) => {
    const req = httpRequest(
      { host: '127.0.0.1', port, path, method: options.method ?? 'GET', headers: { host: options.host ?? `localhost:${port}`, ...options.headers } },
      (res) => {
        let body = '';
        res.on('data', (chunk) => (body += chunk));
        res.on('end', () => resolve({ status: res.statusCode!, body, headers: res.headers }));
      },
    );
    req.on('error', reject);
    req.end();
  });
}

test('a wrong or missing state is refused and the right callback still works', async (t) => {
  const { client, authUrl, port, loginId, home } = await loginStarted(t);
  assert.deepEqual((await raw(port, '/auth/callback?code=x&state=wrong')).status, 400);
  assert.equal((await raw(port, '/auth/callback?code=x')).body, 'State mismatch');
  // An error with the wrong state (e.g. from a LAN page) does not end the login.
  assert.equal((await raw(port, '/auth/callback?error=access_denied&state=nope')).status, 400);
  await assert.rejects(import('node:fs/promises').then((fs) => fs.stat(home.authFile)), { code: 'ENOENT' });
  const callback = await signInAtIssuer(authUrl);
  assert.equal((await fetch(callback, { redirect: 'manual' })).status, 302);
  const complete = await client.waitForNotification('codex/event/login_chat_gpt_complete');
  assert.deepEqual(complete.params, { loginId, success: true });
  assert.match(client.stderr, /wrong or missing state refused/, 'the refusals were logged');
  for (const secret of [new URL(callback).searchParams.get('code')!, new URL(authUrl).searchParams.get('state')!]) {
    assert.equal(client.stderr.includes(secret), false, 'a code or state was logged');
  }
});

/** Sends raw bytes (a request line no HTTP client library would produce) and returns the status line. */
function rawRequestLine(port: number, requestLine: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1', () => socket.write(`${requestLine}\r\nHost: localhost:${port}\r\n\r\n`));
    let data = '';
    socket.setEncoding('utf8');
    socket.on('data', (chunk) => (data += chunk));
    socket.on('error', reject);
    socket.on('close', () => resolve(data.split('\r\n')[0] ?? ''));
  });
}

test('malformed request targets are refused and the login goes on (they once took the worker down)', async (t) => {
  const { client, authUrl, port, loginId } = await loginStarted(t);
  for (const line of ['GET // HTTP/1.1', 'GET ///x HTTP/1.1', 'GET //[ HTTP/1.1', 'GET * HTTP/1.1', 'GET http://evil.example/auth/callback HTTP/1.1']) {
    const status = await rawRequestLine(port, line);
    assert.match(status, /^HTTP\/1\.1 400 /, `${line} → ${status || 'connection dropped'}`);
  }
  assert.equal(client.notifications('codex/event/login_chat_gpt_complete').length, 0);
  const callback = await signInAtIssuer(authUrl);
  assert.equal((await fetch(callback, { redirect: 'manual' })).status, 302, 'the same listener still serves the callback');
  assert.deepEqual((await client.waitForNotification('codex/event/login_chat_gpt_complete')).params, { loginId, success: true });
});

test('Host, method and path checks; favicon and /success do not end the flow', async (t) => {
  const { client, port, state } = await loginStarted(t);
  const evil = await raw(port, `/auth/callback?code=x&state=${state}`, { host: `evil.example:${port}` });
  assert.equal(evil.status, 403, 'DNS rebinding guard');
  assert.equal((await raw(port, '/auth/callback', { method: 'POST' })).status, 405);
  assert.equal((await raw(port, '/nope')).status, 404);
  const favicon = await raw(port, '/favicon.ico');
  assert.equal(favicon.status, 404);
  assert.equal(favicon.headers['connection'], 'close');
  assert.equal(favicon.headers['cache-control'], 'no-store');
  assert.equal(favicon.headers['referrer-policy'], 'no-referrer');
  // The original completes the login on any GET of /success; here it is only a page.
  assert.equal((await raw(port, '/success')).status, 200);
  assert.equal((await raw(port, '/auth/callback?code=x', { host: `127.0.0.1:${port}` })).status, 400, '127.0.0.1 is an allowed Host');
  await client.request('ping', undefined, 'after');
  assert.equal(client.notifications('codex/event/login_chat_gpt_complete').length, 0);
  assert.equal(client.notifications('codex/event/auth_status_change').length, 0);
});

test('a code is used at most once: a replayed callback is refused, one exchange happens', async (t) => {
  const { client, authUrl, issuer } = await loginStarted(t);
  const callback = await signInAtIssuer(authUrl);
  assert.equal((await fetch(callback, { redirect: 'manual' })).status, 302);
  await client.waitForNotification('codex/event/login_chat_gpt_complete');
  const replay = await fetch(callback, { redirect: 'manual' }).then((r) => r.status, () => 'closed');
  assert.ok(replay === 400 || replay === 'closed', `replay answered ${replay}`);
  assert.equal(issuer.stats.codeExchanges, 1);
});

test('/cancel ends the pending login as replaced (how codex servers reclaim the port for a newer sign-in)', async (t) => {
  const { client, port, loginId } = await loginStarted(t);
  assert.equal((await raw(port, '/cancel')).status, 200);
  const complete = await client.waitForNotification('codex/event/login_chat_gpt_complete');
  assert.equal(complete.params.loginId, loginId);
  assert.equal(complete.params.errorCode, 'superseded');
});

test('a late callback for a sign-in a newer one replaced shows a page saying so, not a bare "State mismatch"', async (t) => {
  const { client, state: oldState } = await loginStarted(t);
  const second = await client.call('loginChatGpt');
  const port = callbackPortOf(second.authUrl);
  const late = await raw(port, `/auth/callback?code=x&state=${encodeURIComponent(oldState)}`);
  assert.equal(late.status, 400);
  assert.match(late.body, /<h1>This sign-in was replaced by a newer one<\/h1>/);
  assert.match(late.body, /window \(or with the URL\) of the newer sign-in/);
  // A state that never belonged to a sign-in here is still just refused.
  assert.equal((await raw(port, '/auth/callback?code=x&state=never-issued')).body, 'State mismatch');
  const newState = new URL(second.authUrl).searchParams.get('state')!;
  assert.notEqual(newState, oldState);
});

test('a /cancel a web page makes the browser send is refused (403) and the login lives on', async (t) => {
  const { client, authUrl, port, loginId } = await loginStarted(t);
  const crossSite: Record<string, string>[] = [
    { 'sec-fetch-site': 'cross-site', 'sec-fetch-mode': 'no-cors', 'sec-fetch-dest': 'image' },
    // another port of localhost is the same *site*, not the same origin: a local dev page
    { 'sec-fetch-site': 'same-site', origin: 'http://localhost:3000' },
    { origin: 'https://evil.example' },
    { origin: 'null' },
    { origin: `http://localhost:${port + 1}` },
    { 'sec-fetch-site': 'same-origin', origin: 'https://evil.example' },
  ];
  for (const headers of crossSite) {
    const answer = await raw(port, '/cancel', { headers });
    assert.equal(answer.status, 403, `${JSON.stringify(headers)} → ${answer.status}`);
  }
  await client.request('ping', undefined, 'after-refusals');
  assert.equal(client.notifications('codex/event/login_chat_gpt_complete').length, 0, 'no refused /cancel ended the login');
  assert.match(client.stderr, /cross-site \/cancel refused/);
  const callback = await signInAtIssuer(authUrl);
  assert.equal((await fetch(callback, { redirect: 'manual' })).status, 302, 'the listener still serves the sign-in');
  assert.deepEqual((await client.waitForNotification('codex/event/login_chat_gpt_complete')).params, { loginId, success: true });
});

for (const [name, headers] of [
  ['typed into the address bar (Sec-Fetch-Site: none)', { 'sec-fetch-site': 'none', 'sec-fetch-mode': 'navigate' }],
  ['from our own page (same-origin, our Origin)', { 'sec-fetch-site': 'same-origin', origin: 'ORIGIN' }],
  ["as codex's servers send it (Host 127.0.0.1, no Origin)", { host: 'HOST127' }],
] as const) {
  test(`a /cancel ${name} still cancels`, async (t) => {
    const { client, port, loginId } = await loginStarted(t);
    const { host, origin, ...rest } = headers as Record<string, string>;
    const answer = await raw(port, '/cancel', {
      ...(host && { host: `127.0.0.1:${port}` }),
      headers: { ...rest, ...(origin && { origin: `http://localhost:${port}` }) },
    });
    assert.equal(answer.status, 200);
    const complete = await client.waitForNotification('codex/event/login_chat_gpt_complete');
    assert.deepEqual(complete.params, { loginId, success: false, error: 'Login server error: Login was not completed', errorCode: 'superseded' }, 'a /cancel is another login server taking the port for a newer sign-in');
  });
}

test('the listener is bound to loopback only', async (t) => {
  const { port } = await loginStarted(t);
  const { networkInterfaces } = await import('node:os');
  const external = Object.values(networkInterfaces()).flat().find((i) => i && !i.internal && i.family === 'IPv4');
  assert.ok(external, 'this machine has a non-loopback IPv4 address to try');
  await assert.rejects(
    new Promise((resolve, reject) => {
      const req = httpRequest({ host: external.address, port, path: '/success', timeout: 2_000 }, resolve);
      req.on('error', reject);
      req.on('timeout', () => req.destroy(new Error('timeout')));
      req.end();
    }),
  );
});
