/**
 * Issuer traffic honours HTTP(S)_PROXY and NO_PROXY (a loopback issuer is never proxied), and a
 * proxy that never answers is how the benchmark makes ours and the original hang the same way.
 */
import assert from 'node:assert/strict';
import { access, constants } from 'node:fs/promises';
import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import { test } from 'node:test';
import { RotatingTokens } from '../dev/fakes/fake-issuer.js';
import { startHangingProxy, staleChatgptAuthRecord } from './support/hanging-proxy.js';
import { originalCodexBinary } from './support/paths.js';
import { spawnServer, startServer } from './support/spawn-server.js';
import { tempHome } from './support/temp-home.js';
import { chatgptAuthRecord } from '../dev/jwt.js';

const claims = { email: 'user@example.com', planType: 'plus', accountId: 'acct-1' };

/**
 * A forward proxy that tunnels CONNECT (as undici's proxy agent uses) straight into an in-process
 * HTTP server playing the issuer, and logs what it was asked for.
 */
async function startProxy(t: { after(fn: () => unknown): void }) {
  const seen: string[] = [];
  const rotating = new RotatingTokens('rt-test-1', claims);
  const issuer = createServer(async (req: IncomingMessage, res) => {
    seen.push(`${req.method} ${req.headers.host}${req.url}`);
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const reply = await rotating.reply(JSON.parse(Buffer.concat(chunks).toString('utf8')));
    if (typeof reply === 'string') throw new Error('unexpected');
    res.writeHead(reply.status, { 'content-type': 'application/json' }).end(JSON.stringify(reply.json));
  });
  const proxy = createServer((_req, res) => res.writeHead(405).end());
  proxy.on('connect', (req: IncomingMessage, socket: Duplex) => {
    seen.push(`CONNECT ${req.url}`);
    socket.write('HTTP/1.1 200 Connection Established\r\n\r\n');
    issuer.emit('connection', socket);
  });
  await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
  t.after(() => new Promise<void>((resolve) => { issuer.closeAllConnections(); proxy.closeAllConnections(); proxy.close(() => resolve()); }));
  return { url: `http://127.0.0.1:${(proxy.address() as AddressInfo).port}`, seen };
}

async function serverBehind(t: { after(fn: () => unknown): void }, env: Record<string, string>) {
  const home = await tempHome();
  t.after(() => home.remove());
  await home.writeAuth(await chatgptAuthRecord(claims));
  return startServer(t, { codexHome: home.path, args: ['-c', 'auth_issuer=http://issuer.invalid', '-c', 'refresh_timeout_secs=15'], env });
}

test('the refresh goes through HTTP_PROXY', async (t) => {
  const proxy = await startProxy(t);
  const client = await serverBehind(t, { HTTP_PROXY: proxy.url });
  const status = await client.call('getAuthStatus', { includeToken: true, refreshToken: true });
  assert.equal(status.authError, undefined, JSON.stringify(status.authError));
  assert.deepEqual(proxy.seen, ['CONNECT issuer.invalid:80', 'POST issuer.invalid/oauth/token']);
});

test('NO_PROXY sends the issuer traffic direct (here: to a name that does not resolve)', async (t) => {
  const proxy = await startProxy(t);
  const client = await serverBehind(t, { HTTP_PROXY: proxy.url, NO_PROXY: 'issuer.invalid' });
  const status = await client.call('getAuthStatus', { includeToken: true, refreshToken: true });
  assert.equal(status.authError.code, 'refresh_unavailable');
  assert.deepEqual(proxy.seen, []);
});

test('HTTPS_PROXY that never answers: ours keeps answering, and the waiting refresh ends at refresh_timeout_secs', async (t) => {
  const proxy = await startHangingProxy();
  t.after(() => proxy.close());
  const home = await tempHome();
  t.after(() => home.remove());
  await home.writeAuth(await staleChatgptAuthRecord(60, claims));
  // auth_issuer left at its default (https://auth.openai.com): only the proxy is local.
  const client = startServer(t, { codexHome: home.path, args: ['-c', 'refresh_timeout_secs=3'], env: { HTTPS_PROXY: proxy.url } });
  await client.initialize();
  const waiting = client.request('getAuthStatus', { includeToken: true, refreshToken: true }, 'waiting', 30_000);
  assert.equal(await proxy.nextConnect(), 'auth.openai.com:443');
  const answers = await Promise.all([client.request('ping'), client.request('getAuthStatus', { includeToken: true })]);
  assert.deepEqual(answers[0]!.result, {});
  assert.equal(answers[1]!.result.authMethod, 'chatgpt');
  assert.ok(answers[1]!.result.authToken, 'a still-valid token is served meanwhile');
  const outcome = await waiting;
  assert.equal(outcome.result.authError.code, 'refresh_timeout');
  assert.ok(outcome.result.authToken, 'and still served after the timeout');
});

test('the benchmark recipe makes the original (0.25) hang: its refresh goes to HTTPS_PROXY, and a ping waits behind it', async (t) => {
  await access(originalCodexBinary, constants.X_OK); // missing binary: the test fails, never skips
  const proxy = await startHangingProxy();
  t.after(() => proxy.close());
  const home = await tempHome();
  t.after(() => home.remove());
  await home.writeAuth(await staleChatgptAuthRecord(60, claims));
  const client = spawnServer({ codexHome: home.path, original: true, env: { HTTPS_PROXY: proxy.url, RUST_LOG: 'error' } });
  t.after(async () => {
    client.kill();
    await client.exited;
  });
  await client.initialize();
  const status = client.request('getAuthStatus', { includeToken: true }, 'status', 30_000);
  assert.equal(await proxy.nextConnect(), 'auth.openai.com:443', 'the 60-day-old last_refresh makes it refresh through the proxy');
  const ping = client.request('ping', undefined, 'ping', 30_000);
  // End the hang: the refresh fails at once, and only then is the ping answered.
  proxy.dropAll();
  const [statusAnswer, pingAnswer] = await Promise.all([status, ping]);
  assert.ok(client.messages.indexOf(statusAnswer) < client.messages.indexOf(pingAnswer), 'the ping was answered only after the stuck refresh ended');
});
