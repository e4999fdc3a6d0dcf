/** Issuer traffic honours HTTP(S)_PROXY and NO_PROXY (a loopback issuer is never proxied). */
import assert from 'node:assert/strict';
import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import { test } from 'node:test';
import { RotatingTokens } from './support/fake-issuer.js';
import { startServer } from './support/rpc-client.js';
import { tempHome } from './support/temp-home.js';
import { chatgptAuthRecord } from './support/tokens.js';

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
