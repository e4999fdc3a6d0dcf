/**
 * The callback port is owned on both loopback families or not used: a squatter on [::1]:PORT
 * makes PORT a port in use (a browser resolving localhost to ::1 would hand it the code and
 * state). Only a host with no IPv6 loopback at all gets 127.0.0.1 alone, and the log says so;
 * that host is made with a private network namespace (`unshare -rn`, ::1 disabled), which a
 * machine without unshare fails rather than skips.
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { createServer, type Server } from 'node:net';
import { test } from 'node:test';
import { RpcClient } from '../dev/rpc-client.js';
import { callbackPortOf } from './support/login-servers.js';
import { listeningSockets } from './support/listening-sockets.js';
import { serverEntry } from './support/paths.js';
import { startServer } from './support/spawn-server.js';
import { tempHome } from './support/temp-home.js';

type T = { after(fn: () => unknown): void };

/** A foreign listener on [::1] only, on a port the kernel picks; returns the port. */
async function squatIpv6(t: T): Promise<number> {
  const squatter: Server = createServer((socket) => socket.destroy());
  await new Promise<void>((resolve, reject) => {
    squatter.once('error', reject);
    squatter.listen({ host: '::1', port: 0, ipv6Only: true }, () => resolve());
  });
  t.after(() => new Promise<void>((resolve) => squatter.close(() => resolve())));
  return (squatter.address() as { port: number }).port;
}

async function serverOnPort(t: T, port: number) {
  const home = await tempHome();
  t.after(() => home.remove());
  const client = startServer(t, { codexHome: home.path, args: ['-c', 'auth_issuer=http://127.0.0.1:9', '-c', `login_callback_port=${port}`] });
  await client.initialize();
  return client;
}

test('[::1]:PORT held by another process: PORT counts as in use, loginChatGpt fails naming it, nothing is left listening', async (t) => {
  const port = await squatIpv6(t);
  const client = await serverOnPort(t, port);
  const response = await client.request('loginChatGpt');
  assert.equal(response.error?.code, -32603, JSON.stringify(response));
  assert.equal(response.error!.message, `failed to start login server: cannot listen for the login callback on loopback port ${port} (in use on [::1])`);
  assert.deepEqual(await listeningSockets(client.child.pid!), [], 'the 127.0.0.1 listener was closed again');
  assert.equal(client.notifications('codex/event/login_chat_gpt_complete').length, 0);
});

test('any free port (0): one port, listened on by both families', async (t) => {
  const client = await serverOnPort(t, 0);
  const { loginId, authUrl } = await client.call('loginChatGpt');
  const sockets = await listeningSockets(client.child.pid!);
  assert.deepEqual(sockets.map((s) => s.family).sort(), [4, 6], 'both families');
  assert.ok(sockets.every((s) => s.port === callbackPortOf(authUrl)));
  assert.deepEqual(await client.call('cancelLoginChatGpt', { loginId }), {});
});

/** Our built server in a network namespace whose loopback has no ::1 (like an IPv4-only host). */
function serverWithoutIpv6(t: T, codexHome: string): RpcClient {
  const probe = spawnSync('unshare', ['-rn', 'true']);
  assert.equal(probe.status, 0, `this test needs unshare -rn (util-linux, user namespaces): ${probe.stderr?.toString() || probe.error?.message}`);
  const setup = 'ip link set lo up && sysctl -q -w net.ipv6.conf.lo.disable_ipv6=1 && exec "$0" "$@"';
  const child = spawn('unshare', ['-rn', 'sh', '-c', setup, process.execPath, serverEntry, '-c', 'auth_issuer=http://127.0.0.1:9', '-c', 'login_callback_port=0'], {
    env: { PATH: process.env['PATH'] ?? '/usr/bin:/bin', HOME: process.env['HOME'] ?? '/', CODEX_HOME: codexHome },
  });
  const client = new RpcClient(child);
  t.after(async () => {
    client.kill();
    await client.exited;
  });
  return client;
}

test('a host with no IPv6 loopback: 127.0.0.1 alone, and the log says so (no secret in it)', async (t) => {
  const home = await tempHome();
  t.after(() => home.remove());
  const client = serverWithoutIpv6(t, home.path);
  await client.initialize();
  const { loginId, authUrl } = await client.call('loginChatGpt');
  const port = callbackPortOf(authUrl);
  const sockets = await listeningSockets(client.child.pid!);
  assert.deepEqual(sockets.map((s) => [s.family, s.port]), [[4, port]]);
  assert.match(client.stderr, /no IPv6 loopback \(::1\): the login callback listens on 127\.0\.0\.1 only/);
  assert.equal(client.stderr.includes(new URL(authUrl).searchParams.get('state')!), false, 'the state was logged');
  assert.deepEqual(await client.call('cancelLoginChatGpt', { loginId }), {});
  assert.deepEqual(await listeningSockets(client.child.pid!), []);
});
