/**
 * The fixed callback ports of the real issuer (1455, then 1457). This is the only test file that
 * binds them, so it never races another file for them.
 */
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import { test } from 'node:test';
import { spawnServer } from './support/spawn-server.js';
import { tempHome } from './support/temp-home.js';
import type { AppServerClient } from './support/codex-app-server.js';
import { cleanupStack, offlineEnv, requireCodex0171, sharedConfigToml, startCodex0171, startRefusingProxy, startStubBackend } from './support/codex-0171-offline.js';

const listen = (server: Server, port: number) =>
  new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve());
  });
const close = (server: Server) => new Promise<void>((resolve) => { server.closeAllConnections(); server.close(() => resolve()); });

async function serverFor(t: { after(fn: () => unknown): void }) {
  const home = await tempHome();
  const client = spawnServer({ codexHome: home.path, args: ['-c', 'auth_issuer=http://127.0.0.1:9'] });
  t.after(async () => {
    client.kill();
    await client.exited;
    await home.remove();
  });
  return client;
}

test('1455 held by a foreign listener: the login falls back to 1457', async (t) => {
  const foreign = createServer((_req, res) => res.writeHead(404).end());
  await listen(foreign, 1455);
  t.after(() => close(foreign));
  const client = await serverFor(t);
  const { authUrl } = await client.call('loginChatGpt');
  assert.match(authUrl, /redirect_uri=http%3A%2F%2F127.0.0.1%3A1457%2Fauth%2Fcallback/);
});

test('[::1]:1455 held by a foreign listener (127.0.0.1:1455 free): 1455 counts as in use and the login falls back to 1457', async (t) => {
  const foreign = createServer((_req, res) => res.writeHead(404).end());
  await new Promise<void>((resolve, reject) => {
    foreign.once('error', reject);
    foreign.listen({ port: 1455, host: '::1', ipv6Only: true }, () => resolve());
  });
  t.after(() => close(foreign));
  const client = await serverFor(t);
  const { authUrl } = await client.call('loginChatGpt');
  assert.match(authUrl, /redirect_uri=http%3A%2F%2F127.0.0.1%3A1457%2Fauth%2Fcallback/);
});

test('1455 and 1457 both held: loginChatGpt fails at once naming both ports', async (t) => {
  const a = createServer((_req, res) => res.writeHead(404).end());
  const b = createServer((_req, res) => res.writeHead(404).end());
  await listen(a, 1455);
  await listen(b, 1457);
  t.after(() => Promise.all([close(a), close(b)]));
  const client = await serverFor(t);
  const response = await client.request('loginChatGpt');
  assert.equal(response.error?.code, -32603);
  assert.match(response.error!.message, /1455 \(in use\) or 1457 \(in use\)/);
});

test('a stale login server on 1455 that answers /cancel is asked to stop and the port is reclaimed', async (t) => {
  const stale = await serverFor(t);
  const first = await stale.call('loginChatGpt');
  assert.match(first.authUrl, /127\.0\.0\.1%3A1455/);
  const fresh = await serverFor(t);
  const second = await fresh.call('loginChatGpt');
  assert.match(second.authUrl, /127\.0\.0\.1%3A1455/, 'the new server took 1455 over');
  const complete = await stale.waitForNotification('codex/event/login_chat_gpt_complete');
  assert.equal(complete.params.loginId, first.loginId);
  assert.equal(complete.params.errorCode, 'superseded', 'a newer sign-in replaced it');
});

test("Codex 0.171 starting a sign-in while ours holds 1455: its /cancel still gets through (no Origin), ours ends superseded, 0.171 takes 1455", { timeout: 60_000 }, async (t) => {
  requireCodex0171(); // a missing binary fails here, it never skips
  const defer = cleanupStack(t);
  const proxy = await startRefusingProxy();
  defer(() => proxy.close());
  const backend = await startStubBackend();
  defer(() => backend.close());
  const home = await tempHome();
  defer(() => home.remove());
  await home.writeConfig(sharedConfigToml(backend));
  const ours = spawnServer({ codexHome: home.path, args: ['-c', 'auth_issuer=http://127.0.0.1:9'], env: { ...offlineEnv(proxy.url), CODEX_AUTH_MCP_LOG: 'debug' } });
  defer(async () => {
    ours.kill();
    await ours.exited;
  });
  await ours.initialize();
  const { loginId, authUrl } = await ours.call('loginChatGpt');
  assert.match(authUrl, /127\.0\.0\.1%3A1455/);

  let app!: AppServerClient;
  await startCodex0171({ codexHome: home.path, name: 'codex0171-reclaims-1455', env: { ...offlineEnv(proxy.url), CODEX_APP_SERVER_LOGIN_ISSUER: 'http://127.0.0.1:9' } }, (spawned) => {
    app = spawned;
    defer(() => spawned.close());
  });
  const started = await app.request('account/login/start', { type: 'chatgpt' });
  assert.equal(started.error, undefined, JSON.stringify(started.error));
  const redirect = new URL(new URL(started.result.authUrl).searchParams.get('redirect_uri')!);
  const complete = await ours.waitForNotification('codex/event/login_chat_gpt_complete');
  assert.deepEqual(complete.params, { loginId, success: false, error: 'Login server error: Login was not completed', errorCode: 'superseded' });
  assert.equal(redirect.port, '1455', 'codex took the port over after its /cancel');
  assert.doesNotMatch(ours.stderr, /cross-site \/cancel refused/);
  await app.request('account/login/cancel', { loginId: started.result.loginId });
});
