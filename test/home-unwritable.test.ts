/**
 * A CODEX_HOME this process cannot write is refused before a sign-in page or a device code is
 * handed out, or a key taken (issue 25: the browser sign-in used to go all the way through and end
 * in "Unable to persist auth file: EACCES … auth.lock"). Every front end: the MCP login tool, v1
 * loginChatGpt and loginApiKey, v2 account/login/start, and the CLI's login (exit 2). The answer
 * names the folder, why, and the fix; the issuer is never asked anything.
 *
 * Run as root (CI), the server runs as uid 65534 on a root-owned folder (root may write anywhere);
 * run as another user, the folder is made read-only (0555) instead.
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync, type SpawnOptionsWithoutStdio } from 'node:child_process';
import { once } from 'node:events';
import { chmod, mkdir } from 'node:fs/promises';
import { createServer } from 'node:http';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import { RpcClient } from '../dev/rpc-client.js';
import { serverEntry } from './support/paths.js';
import { tempHome } from './support/temp-home.js';

const asRoot = process.getuid?.() === 0;

/** An unwritable CODEX_HOME for the processes this test starts, and how to start them. */
async function unwritableHome(t: TestContext) {
  const dir = await tempHome();
  t.after(async () => {
    await chmod(join(dir.path, 'home'), 0o700).catch(() => undefined);
    await dir.remove();
  });
  const home = join(dir.path, 'home');
  await mkdir(home, { mode: 0o755 });
  await chmod(dir.path, 0o755);
  if (!asRoot) await chmod(home, 0o555);
  const spawnOptions = (env: Record<string, string>): SpawnOptionsWithoutStdio => ({
    env: { PATH: process.env['PATH']!, HOME: dir.path, CODEX_HOME: home, CODEX_AUTH_MCP_LOG: 'warn', ...env },
    ...(asRoot && { uid: 65534, gid: 65534 }),
  });
  if (asRoot) {
    // Fail at once, not by a hang, where uid 65534 cannot run this Node or read the build (a Node
    // unpacked into a 0700 folder, as `mktemp -d` makes them: .ci/run opens its folder for that).
    const probe = spawnSync(process.execPath, [serverEntry, '--version'], { ...spawnOptions({}), encoding: 'utf8', timeout: 20_000 });
    assert.equal(probe.status, 0, `uid 65534 cannot run ${process.execPath} ${serverEntry} (${probe.error?.message ?? probe.stderr}): make their folders readable by others`);
  }
  return { home, spawnOptions };
}

/** A loopback issuer that counts what it is asked (it should be asked nothing). */
async function countingIssuer(t: TestContext) {
  const asked: string[] = [];
  const server = createServer((req, res) => {
    asked.push(`${req.method} ${req.url}`);
    res.writeHead(500).end();
  }).listen(0, '127.0.0.1');
  await once(server, 'listening');
  t.after(() => new Promise((resolve) => server.close(resolve)));
  return { url: `http://127.0.0.1:${(server.address() as { port: number }).port}`, asked };
}

test('MCP tool, v1 and v2: an unwritable CODEX_HOME is refused before any URL or code, naming it, why and the fix', async (t) => {
  const { home, spawnOptions } = await unwritableHome(t);
  const issuer = await countingIssuer(t);
  const child = spawn(process.execPath, [serverEntry, 'mcp', '-c', `auth_issuer="${issuer.url}"`, '-c', 'login_callback_port=0'], spawnOptions({}));
  const client = new RpcClient(child);
  t.after(async () => {
    client.kill();
    await client.exited;
  });
  await client.initialize();
  const refusal = new RegExp(`^CODEX_HOME \\(${home}\\) cannot hold a sign-in: .*(EACCES|may not write).*; (run: chmod u\\+w|point CODEX_HOME at a folder of yours).*\\. Nothing was started\\.$`);

  for (const method of ['chatgpt', 'device_code', 'api_key']) {
    const tool = await client.call('tools/call', { name: 'login', arguments: { method, ...(method === 'api_key' && { apiKey: 'sk-never' }) } });
    assert.equal(tool.isError, true, method);
    assert.match(tool.content[0].text, refusal, method);
    assert.doesNotMatch(tool.content[0].text, /oauth\/authorize|codex\/device/, method);
  }
  for (const [method, params] of [
    ['loginChatGpt', {}],
    ['loginApiKey', { apiKey: 'sk-never' }],
    ['account/login/start', { type: 'chatgpt' }],
    ['account/login/start', { type: 'chatgptDeviceCode' }],
    ['account/login/start', { type: 'apiKey', apiKey: 'sk-never' }],
  ] as const) {
    const reply = await client.request(method, params);
    assert.equal(reply.error?.code, -32603, `${method} ${JSON.stringify(params)}: ${JSON.stringify(reply)}`);
    assert.match(reply.error!.message, refusal);
  }
  assert.deepEqual(issuer.asked, [], 'the issuer was never asked for a device code');
  assert.deepEqual(await client.call('ping'), {}, 'the server goes on');
});

test('CLI login (browser, device code, API key): exit 2 before anything is printed on stdout; logout exit 2 naming the folder', async (t) => {
  const { home, spawnOptions } = await unwritableHome(t);
  const issuer = await countingIssuer(t);
  for (const args of [['login'], ['login', '--device-auth'], ['login', '--with-api-key']]) {
    const child = spawn(process.execPath, [serverEntry, ...args, '-c', `auth_issuer="${issuer.url}"`, '-c', 'login_callback_port=0'], spawnOptions({}));
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk) => (stdout += chunk));
    child.stderr.on('data', (chunk) => (stderr += chunk));
    child.stdin.end('sk-never\n');
    const [code] = await once(child, 'exit');
    assert.deepEqual({ code, stdout }, { code: 2, stdout: '' }, `${args.join(' ')}: ${stderr}`);
    assert.match(stderr, new RegExp(`^codex-auth-mcp: CODEX_HOME \\(${home}\\) cannot hold a sign-in: .*Nothing was started\\.\\n$`), args.join(' '));
  }
  assert.deepEqual(issuer.asked, []);

  // logout: exit 2 naming the folder, not a raw EACCES on Codex's lock file.
  const logout = spawn(process.execPath, [serverEntry, 'logout', '--local'], spawnOptions({}));
  let logoutErr = '';
  logout.stderr.on('data', (chunk) => (logoutErr += chunk));
  logout.stdout.resume();
  const [logoutCode] = await once(logout, 'exit');
  assert.equal(logoutCode, 2, logoutErr);
  assert.match(logoutErr, new RegExp(`^codex-auth-mcp: CODEX_HOME \\(${home}\\) cannot be changed: .*Nothing was removed\\.\\n$`));
});
