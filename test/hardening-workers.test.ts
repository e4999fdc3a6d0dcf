/**
 * Issue 11, item 1: a thread or child that cannot start fails its job, never the server.
 *
 * The spawned server's open-file limit is lowered (prlimit) to what it holds, so the next worker
 * thread cannot start (EMFILE). Before the fix the token-service pool's unheard 'error' event
 * ended the process (exit 1, ERR_WORKER_INIT_FAILED) with the request unanswered.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { startFakeIssuer } from '../dev/fakes/fake-issuer.js';
import { chatgptAuthRecord } from '../dev/jwt.js';
import type { RpcClient } from '../dev/rpc-client.js';
import { eventually } from './support/eventually.js';
import { isRunning } from './support/processes.js';
import { startServer } from './support/spawn-server.js';
import { tempHome } from './support/temp-home.js';
import { fakeKeyringEnv } from './support/fake-keyring-env.js';

const threadsOf = (pid: number) => Number(/Threads:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))![1]);
const openFiles = (pid: number) => readdirSync(`/proc/${pid}/fd`).map(Number);

/**
 * The open-file limit that leaves exactly `spare` descriptors free. The limit bounds descriptor
 * numbers, not their count, so a gap left by a closed file is free too and must be counted.
 */
function limitLeaving(open: number[], spare: number): number {
  const taken = new Set(open);
  let free = 0;
  for (let fd = 0; ; fd++) {
    if (taken.has(fd)) continue;
    if (free === spare) return fd;
    free++;
  }
}

/** Sets the soft open-file limit of a running process (the hard one stays, so it can be raised again). */
function limitOpenFiles(pid: number, limit: number): void {
  execFileSync('prlimit', ['--pid', String(pid), `--nofile=${limit}:`]);
}

const RESTORED = 1024;

/**
 * Waits until the server is idle with no token-service thread (the pool lets an idle one go after
 * 0.5 s; `tokenThread: false` when none was started), then leaves it exactly `spare` free descriptors. Measured here: three are enough for
 * one locked write once the lock code is loaded, two are too few for it, five let a thread start.
 */
async function starveOfFiles(client: RpcClient & { child: { pid?: number } }, spare = 0, { tokenThread = true } = {}): Promise<number> {
  const pid = client.child.pid!;
  const busy = threadsOf(pid);
  if (tokenThread) await eventually(() => assert.ok(threadsOf(pid) < busy, 'the idle token-service thread has exited'), 10_000, 50);
  // A thread's files close a moment after it ends: count once the number holds still.
  let counts: string[] = [];
  await eventually(() => {
    counts = [...counts.slice(-2), openFiles(pid).join()];
    assert.ok(counts.length === 3 && counts.every((n) => n === counts[0]), 'the open files hold still');
  }, 10_000, 100);
  limitOpenFiles(pid, limitLeaving(counts[0]!.split(',').map(Number), spare));
  return pid;
}

test('a token-service thread that cannot start (EMFILE) fails the validation, not the server; the change is announced once it can', async (t) => {
  const home = await tempHome();
  t.after(() => home.remove());
  const client = startServer(t, { codexHome: home.path });
  // A sign-in and sign-out first, so the lock code is loaded and only the writes need files below.
  assert.deepEqual((await client.request('loginApiKey', { apiKey: 'sk-warm' })).result, {});
  assert.equal((await client.request('logoutChatGpt', {})).error, undefined);
  assert.deepEqual((await client.request('getAuthStatus', {})).result, { preferredAuthMethod: 'chatgpt' });
  const pid = await starveOfFiles(client, 3);

  // The key is written on the main thread; re-reading it needs a thread that cannot start.
  const login = await client.request('account/login/start', { type: 'apiKey', apiKey: 'sk-starved' });
  assert.deepEqual(login.result, { type: 'apiKey' }, 'the key was stored, so the sign-in succeeded');
  await client.waitFor((m) => m.method === 'account/login/completed' && m.params?.success === true, 'the sign-in completion');
  const stale = await client.request('getAuthStatus', {});
  assert.equal(stale.result.authError?.code, 'status_unverified', 'the status says it may be out of date instead of passing off the old state');
  assert.match(stale.result.authError.message, /EMFILE: too many open files/);
  assert.doesNotMatch(client.stderr, /sk-starved/);

  // Once files are there again, the retry (no request needed) validates and announces the key.
  limitOpenFiles(pid, RESTORED);
  await client.waitFor((m) => m.method === 'codex/event/auth_status_change' && m.params?.authMethod === 'apikey', 'the apikey announcement', 15_000);
  await client.waitFor((m) => m.method === 'account/updated' && m.params?.authMode === 'apikey', 'the v2 announcement');
  const status = await client.request('getAuthStatus', {});
  assert.equal(status.result.authMethod, 'apikey');
  assert.equal(status.result.authError, undefined);
  assert.equal(await Promise.race([client.exited.then(() => 'exited'), Promise.resolve('alive')]), 'alive');
});

test('a change to auth.json while no thread can start is reported as unverified, then validated once one can', async (t) => {
  const home = await tempHome();
  t.after(() => home.remove());
  await home.writeAuth({ auth_mode: 'apikey', OPENAI_API_KEY: 'sk-first' });
  const client = startServer(t, { codexHome: home.path });
  // `initialize` needs no worker; starve the server before anything asks for the status.
  await client.request('initialize', { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 't', version: '1' } });
  await client.request('getAuthStatus', {});
  const pid = await starveOfFiles(client);
  await home.writeAuth({ auth_mode: 'apikey', OPENAI_API_KEY: 'sk-second' });
  // The file changed while no thread can start: the status is marked unverified, not wrong.
  await eventually(async () => assert.equal((await client.request('getAuthStatus', {})).result.authError?.code, 'status_unverified'), 10_000, 50);
  limitOpenFiles(pid, RESTORED);
  await eventually(async () => assert.equal((await client.request('getAuthStatus', {})).result.authError, undefined), 15_000, 100);
});

test('a login worker that cannot start fails that loginChatGpt with a clear error; the next one works', async (t) => {
  const home = await tempHome();
  t.after(() => home.remove());
  const client = startServer(t, { codexHome: home.path, args: ['-c', 'login_callback_port=0'] });
  await client.request('getAuthStatus', {});
  // Nothing is stored, so no token-service thread started (auth/nothing-stored.ts): none to wait for.
  const pid = await starveOfFiles(client, 0, { tokenThread: false });
  const failed = await client.request('loginChatGpt', {});
  assert.equal(failed.error?.code, -32603);
  assert.match(failed.error!.message, /EMFILE/);
  limitOpenFiles(pid, RESTORED);
  const started = await client.request('loginChatGpt', {});
  assert.match(started.result?.authUrl ?? '', /^https:\/\/auth\.openai\.com\/oauth\/authorize\?/);
  assert.deepEqual((await client.request('cancelLoginChatGpt', { loginId: started.result.loginId })).result, {});
});

test('200 logouts in one chunk: every one is answered with a result (they queue), one revocation, never a pool message', async (t) => {
  const issuer = await startFakeIssuer({ onRevoke: () => ({ status: 200, json: {} }) });
  t.after(() => issuer.close());
  const home = await tempHome();
  t.after(() => home.remove());
  await home.writeAuth(await chatgptAuthRecord({ email: 'user@example.com', planType: 'plus', accountId: 'acct-1', exp: Math.floor(Date.now() / 1000) + 3600 }));
  const client = startServer(t, { codexHome: home.path, args: ['-c', `auth_issuer=${issuer.url}`] });
  assert.equal((await client.call('getAuthStatus', {})).authMethod, 'chatgpt');
  const ids = Array.from({ length: 200 }, (_, i) => `logout-${i}`);
  client.child.stdin.write(ids.map((id) => `${JSON.stringify({ jsonrpc: '2.0', id, method: 'logoutChatGpt', params: {} })}\n`).join(''));
  const answers = await Promise.all(ids.map((id) => client.waitFor((m) => m.id === id, id, 30_000)));
  assert.deepEqual(answers.filter((a) => a.error), [], 'no errors');
  assert.equal(answers.filter((a) => a.result?.revoked === true).length, 1, 'the first revokes; the rest find nothing to revoke');
  assert.equal((await client.call('getAuthStatus', {})).authMethod, undefined);
});

test('a keyring helper that cannot be spawned (EMFILE) fails that sign-in with a clear error; the next one works', async (t) => {
  const home = await tempHome();
  t.after(() => home.remove());
  const keyringDir = mkdtempSync(join(tmpdir(), 'fake-keyring-'));
  const client = startServer(t, {
    codexHome: home.path,
    args: ['-c', 'cli_auth_credentials_store=keyring'],
    env: fakeKeyringEnv('memory', keyringDir),
  });
  // After startServer's hook, so it runs once the server and its keyring helpers (which write here) are gone.
  t.after(() => rmSync(keyringDir, { recursive: true, force: true, maxRetries: 5 }));
  await client.request('getAuthStatus', {});
  // A helper that answered is kept 2 s for the next call (keyring-helpers.ts): let those of the
  // start-up go, so that the sign-in below has to spawn one. By then the token-service thread,
  // idle for 0.5 s, has gone too (its helpers with it).
  await eventually(() => {
    for (const helper of readdirSync(join(keyringDir, 'pids')).map(Number)) assert.ok(!isRunning(helper), `keyring helper ${helper} is still idle`);
  });
  const pid = await starveOfFiles(client, 0, { tokenThread: false });
  const failed = await client.request('loginApiKey', { apiKey: 'sk-keyring' });
  assert.equal(failed.error?.code, -32603);
  // Node 20 names the errno; Node 24, failing to read koffi's package.json, says it in words.
  assert.match(failed.error!.message, /EMFILE|too many open files/);
  assert.doesNotMatch(client.stderr, /sk-keyring/);
  limitOpenFiles(pid, RESTORED);
  // Before, the lock code's failed load stayed cached and every later sign-in failed until a restart.
  assert.deepEqual((await client.request('loginApiKey', { apiKey: 'sk-keyring' })).result, {});
  assert.equal((await client.call('getAuthStatus', {})).authMethod, 'apikey');
});
