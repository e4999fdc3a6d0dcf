/**
 * Credential storage in the OS keyring, through the server: fake keyrings (one that works, one
 * that hangs, one that fails) for the keyring, auto, timeout and fallback paths, and a real
 * secret service (gnome-keyring in a private D-Bus session that the test starts and ends).
 */
import assert from 'node:assert/strict';
import { execFile, execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, readdir, readFile, realpath, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { promisify } from 'node:util';
import { KEYRING_SERVICE, keyringAccount } from '../src/auth/store/keyring-entry.js';
import { eventually } from './support/eventually.js';
import { RotatingTokens, startFakeIssuer } from '../dev/fakes/fake-issuer.js';
import { entryFile } from './support/fake-keyring.js';
import { serverEntry } from './support/paths.js';
import type { RpcClient } from '../dev/rpc-client.js';
import { spawnServer, startServer } from './support/spawn-server.js';
import { startSecretService } from './support/secret-service.js';
import { tempHome } from './support/temp-home.js';
import { chatgptAuthRecord } from '../dev/jwt.js';
import { isRunning } from './support/processes.js';
import { fakeKeyringEnv } from './support/fake-keyring-env.js';

const run = promisify(execFile);

type Behaviour = 'memory' | 'hang' | 'fail';

const refreshClaims = { email: 'user@example.com', planType: 'plus', accountId: 'acct-1' };

async function fakeKeyringDir(behaviour: Behaviour) {
  const dir = await mkdtemp(join(tmpdir(), 'fake-keyring-'));
  if (behaviour === 'hang') execFileSync('mkfifo', [join(dir, 'hang.fifo')]);
  return { dir, remove: () => rm(dir, { recursive: true, force: true, maxRetries: 5 }) };
}

const fakeEnv = (behaviour: Behaviour, dir: string) => fakeKeyringEnv(behaviour, dir);

async function withFakeKeyring(
  t: { after(fn: () => unknown): void },
  behaviour: Behaviour,
  mode: 'keyring' | 'auto',
  setup?: (home: string, entry: string) => Promise<void>,
  extraArgs: string[] = [],
) {
  const home = await tempHome();
  const { dir, remove } = await fakeKeyringDir(behaviour);
  const entry = entryFile(dir, KEYRING_SERVICE, keyringAccount(home.path));
  try {
    await setup?.(home.path, entry);
  } catch (error) {
    await Promise.all([home.remove(), remove()]);
    throw error;
  }
  const client = startServer(t, {
    codexHome: home.path,
    args: ['-c', `cli_auth_credentials_store=${mode}`, '-c', 'logout_revokes_tokens=false', ...extraArgs],
    env: fakeEnv(behaviour, dir),
  });
  // Registered after startServer's own hook, so they run once the server is gone: node:test runs a
  // test's after hooks in the order they were added and stops at the first that fails, and a live
  // server's keyring poll adding a helper's pid file mid-removal failed the rm (ENOTEMPTY), which
  // then skipped the kill and left the file's process waiting on the server for ever.
  t.after(() => home.remove());
  t.after(remove);
  return { home, client, dir, entry };
}

/** The next `auth_status_change` (one already received does not count) that names `authMethod`. */
function nextAuthChange(client: RpcClient, authMethod: string) {
  const seen = client.messages.length;
  return client.waitFor(
    (m) => client.messages.indexOf(m) >= seen && m.method === 'codex/event/auth_status_change' && m.params?.authMethod === authMethod,
    `auth_status_change to ${authMethod}`,
    // The keyring is looked at every 15 s; generous for a busy machine.
    40_000,
  );
}

/** Every keyring helper process the fake saw is gone. */
async function noHelperLeft(dir: string): Promise<void> {
  const pids = (await readdir(join(dir, 'pids'))).map(Number);
  assert.ok(pids.length > 0, 'the fake keyring was used');
  await eventually(() => {
    for (const pid of pids) assert.ok(!isRunning(pid), `keyring helper ${pid} is still running`);
  });
}

test('the keyring entry uses the original key: "cli|" + 16 hex of sha256(canonical CODEX_HOME)', async (t) => {
  const home = await tempHome();
  t.after(() => home.remove());
  const canonical = await realpath(home.path);
  assert.equal(keyringAccount(`${home.path}/.`), `cli|${createHash('sha256').update(canonical).digest('hex').slice(0, 16)}`);
});

test('keyring mode: a plaintext auth.json left from file mode is read and reported, and the next save moves it into the keyring', async (t) => {
  const { client, home, entry } = await withFakeKeyring(t, 'memory', 'keyring', async (path) => {
    await mkdir(path, { recursive: true });
    await writeFile(join(path, 'auth.json'), JSON.stringify({ OPENAI_API_KEY: 'sk-old-plaintext' }));
  });
  const before = await client.call('getAuthStatus', { includeToken: true });
  assert.equal(before.authToken, 'sk-old-plaintext', 'not lost by switching to keyring storage');
  assert.equal(before.storage, 'file');
  assert.match(before.storageWarning, /still in plaintext .*auth\.json, not in the OS keyring/);

  await client.call('loginApiKey', { apiKey: 'sk-in-keyring' });
  await assert.rejects(stat(home.authFile), { code: 'ENOENT' });
  assert.deepEqual(JSON.parse(await readFile(entry, 'utf8')), { auth_mode: 'apikey', OPENAI_API_KEY: 'sk-in-keyring' }, 'the same JSON record codex stores');
  assert.deepEqual(await client.call('getAuthStatus', { includeToken: true }), { preferredAuthMethod: 'chatgpt', authMethod: 'apikey', authToken: 'sk-in-keyring', storage: 'keyring' });
  const account = await client.call('account/read');
  assert.equal(account.storage, 'keyring');

  assert.deepEqual(await client.call('logoutChatGpt'), { revoked: false });
  await assert.rejects(stat(entry), { code: 'ENOENT' });
  assert.equal((await client.call('getAuthStatus')).authMethod, undefined);
});

test('keyring mode: an auth.json that cannot be removed after a keyring save is reported, not hidden', async (t) => {
  const { client, entry } = await withFakeKeyring(t, 'memory', 'keyring', async (path) => {
    // A directory in the way: as root no permission bit would stop the removal.
    await mkdir(join(path, 'auth.json', 'stuck'), { recursive: true });
  });
  await client.call('loginApiKey', { apiKey: 'sk-saved' });
  assert.ok(await stat(entry), 'saved in the keyring');
  const status = await client.call('getAuthStatus', { includeToken: true });
  assert.equal(status.authToken, 'sk-saved');
  assert.equal(status.storage, 'keyring');
  assert.match(status.storageWarning, /plaintext .*auth\.json is still present next to the OS keyring entry/);
});

test('a keyring that hangs never hangs the server: other requests are answered, the status says why, and the server still exits', async (t) => {
  const { client, dir } = await withFakeKeyring(t, 'hang', 'keyring');
  const status = client.request('getAuthStatus', {}, 'status', 20_000);
  assert.deepEqual(await client.call('ping'), {});
  const answer = await status;
  assert.equal(answer.result.authError.code, 'keyring_unavailable');
  assert.match(answer.result.authError.message, /did not answer within 3 s/);
  assert.equal(answer.result.storage, 'keyring');
  // A call stuck in a system call must not keep the server alive, nor outlive it.
  assert.deepEqual(await client.close(15_000), { code: 0, signal: null });
  await noHelperLeft(dir);
});

test('keyring mode with a failing keyring is an error, never a silent file', async (t) => {
  const { client, home } = await withFakeKeyring(t, 'fail', 'keyring');
  const status = await client.call('getAuthStatus');
  assert.equal(status.authError.code, 'keyring_unavailable');
  assert.match(status.authError.message, /no secret service/);
  const login = await client.request('loginApiKey', { apiKey: 'sk-x' });
  assert.equal(login.error?.code, -32603);
  assert.match(login.error!.message, /cannot store the credentials in the OS keyring/);
  await assert.rejects(stat(home.authFile), { code: 'ENOENT' });
  const logout = await client.request('logoutChatGpt', { revoke: false });
  assert.equal(logout.error?.code, -32603, 'a logout that cannot reach the keyring does not claim success');
  assert.match(logout.error!.message, /cannot remove the credentials from the OS keyring/);
});

test('auto mode falls back to auth.json when the keyring fails, and says so in every status', async (t) => {
  const { client, home, dir } = await withFakeKeyring(t, 'fail', 'auto');
  await client.call('loginApiKey', { apiKey: 'sk-auto' });
  assert.equal((await stat(home.authFile)).mode & 0o777, 0o600);
  const status = await client.call('getAuthStatus', { includeToken: true });
  assert.equal(status.authToken, 'sk-auto');
  assert.equal(status.storage, 'file');
  assert.match(status.storageWarning, /OS keyring is not usable \(.*no secret service.*\); the credentials are kept in plaintext/);
  const account = await client.call('account/read');
  assert.equal(account.storage, 'file');
  assert.match(account.storageWarning, /keyring is not usable/);

  const cli = await run(process.execPath, [serverEntry, 'status', '-c', 'cli_auth_credentials_store=auto'], {
    env: { PATH: process.env['PATH'] ?? '', CODEX_HOME: home.path, ...fakeEnv('fail', dir) },
  });
  assert.match(cli.stdout, /Warning: the OS keyring is not usable/);
});

test('auto mode with a keyring that hangs falls back to auth.json within the timeout', async (t) => {
  const { client, home, dir } = await withFakeKeyring(t, 'hang', 'auto');
  const login = await client.request('loginApiKey', { apiKey: 'sk-despite-hang' }, 'login', 20_000);
  assert.deepEqual(login.result, {});
  assert.ok(await stat(home.authFile));
  const status = (await client.request('getAuthStatus', { includeToken: true }, 'status', 20_000)).result;
  assert.equal(status.authToken, 'sk-despite-hang');
  assert.equal(status.storage, 'file');
  assert.match(status.storageWarning, /did not answer within 3 s/);
  assert.deepEqual(await client.close(15_000), { code: 0, signal: null });
  await noHelperLeft(dir);
});

test('auto mode: credentials written to auth.json during a fallback win over an older keyring entry, then move into the keyring', async (t) => {
  const { client, home, entry } = await withFakeKeyring(t, 'memory', 'auto', async (path, entryPath) => {
    await mkdir(path, { recursive: true });
    await writeFile(entryPath, JSON.stringify({ OPENAI_API_KEY: 'sk-older-in-keyring', tokens: null }));
    await writeFile(join(path, 'auth.json'), JSON.stringify({ OPENAI_API_KEY: 'sk-newer-in-file', tokens: null }));
  });
  const before = await client.call('getAuthStatus', { includeToken: true });
  assert.equal(before.authToken, 'sk-newer-in-file');
  assert.equal(before.storage, 'file');
  assert.match(before.storageWarning, /move to the OS keyring at the next sign-in/);

  await client.call('loginApiKey', { apiKey: 'sk-now-in-keyring' });
  await assert.rejects(stat(home.authFile), { code: 'ENOENT' });
  assert.equal(JSON.parse(await readFile(entry, 'utf8')).OPENAI_API_KEY, 'sk-now-in-keyring');
  assert.deepEqual(await client.call('getAuthStatus', { includeToken: true }), { preferredAuthMethod: 'chatgpt', authMethod: 'apikey', authToken: 'sk-now-in-keyring', storage: 'keyring' });
});

test('keyring mode notices a change another program makes to the keyring entry, as often as keyring_poll_secs says', async (t) => {
  const { client, entry, dir } = await withFakeKeyring(t, 'memory', 'keyring', undefined, ['-c', 'keyring_poll_secs=1']);
  assert.equal((await client.call('getAuthStatus')).authMethod, undefined);
  // Let the start-up reads finish (the validation, the first look at the entry, and the
  // validation that first look always asks for), so that only a later look can find the change.
  // (The fake reads the entry as a call begins; a helper takes several calls, so count calls.)
  await eventually(async () => assert.ok((await readFile(join(dir, 'calls'), 'utf8')).split('\n').length - 1 >= 3));
  const changed = nextAuthChange(client, 'apikey');
  await writeFile(entry, JSON.stringify({ OPENAI_API_KEY: 'sk-from-elsewhere', tokens: null }));
  // Nothing tells the server: it finds the change by looking at the entry (every 15 s by
  // default; every second here).
  const writtenAt = Date.now();
  await changed;
  assert.ok(Date.now() - writtenAt < 10_000, `noticed after ${Date.now() - writtenAt} ms, within a few looks a second apart`);
  assert.equal((await client.call('getAuthStatus', { includeToken: true })).authToken, 'sk-from-elsewhere');
});

test('keyring mode: a sign-in by a sibling server sharing CODEX_HOME is announced by the other', async (t) => {
  const { client, home, dir } = await withFakeKeyring(t, 'memory', 'keyring');
  const sibling = startServer(t, {
    codexHome: home.path,
    args: ['-c', 'cli_auth_credentials_store=keyring', '-c', 'logout_revokes_tokens=false'],
    env: fakeEnv('memory', dir),
  });
  assert.equal((await client.call('getAuthStatus')).authMethod, undefined);
  const changed = nextAuthChange(client, 'apikey');
  await sibling.call('loginApiKey', { apiKey: 'sk-from-sibling' });
  await changed;
  assert.equal((await client.call('getAuthStatus', { includeToken: true })).authToken, 'sk-from-sibling');
});

test('keyring mode: rotated tokens the keyring refuses are kept in auth.json, reported, and move back once it takes them', async (t) => {
  const rotating = new RotatingTokens('rt-test-1', refreshClaims);
  const issuer = await startFakeIssuer({ onRefresh: (_n, body) => rotating.reply(body) });
  t.after(() => issuer.close());
  const home = await tempHome();
  const { dir, remove } = await fakeKeyringDir('memory');
  const entry = entryFile(dir, KEYRING_SERVICE, keyringAccount(home.path));
  await writeFile(entry, JSON.stringify(await chatgptAuthRecord({ ...refreshClaims, exp: Math.floor(Date.now() / 1000) + 3600 })));
  const client = startServer(t, {
    codexHome: home.path,
    args: ['-c', 'cli_auth_credentials_store=keyring', '-c', `auth_issuer=${issuer.url}`],
    env: fakeEnv('memory', dir),
  });
  t.after(() => home.remove()); // once the server is gone, as in withFakeKeyring
  t.after(remove);
  assert.equal((await client.call('getAuthStatus')).storage, 'keyring');

  // The collection is locked after the server has read it; the refresh spends rt-test-1.
  await writeFile(join(dir, 'refuse-writes'), '');
  const refreshed = await client.call('getAuthStatus', { includeToken: true, refreshToken: true });
  assert.equal(refreshed.authError, undefined);
  assert.equal(refreshed.storage, 'file');
  assert.match(refreshed.storageWarning, /refreshed credentials are in plaintext .*auth\.json because the OS keyring refused them/);
  const rescued = JSON.parse(await readFile(home.authFile, 'utf8'));
  assert.equal(rescued.tokens.refresh_token, 'rt-rotated-1', 'the only copy of the live refresh token');
  assert.equal((await stat(home.authFile)).mode & 0o777, 0o600);
  assert.equal(JSON.parse(await readFile(entry, 'utf8')).tokens.refresh_token, 'rt-test-1', 'the keyring still holds the spent one');
  assert.equal(refreshed.authToken, rescued.tokens.access_token);

  // The keyring works again: the next refresh uses the rescued token and moves everything back.
  await rm(join(dir, 'refuse-writes'));
  const back = await client.call('getAuthStatus', { includeToken: true, refreshToken: true });
  assert.equal(back.authError, undefined);
  assert.equal(back.storage, 'keyring');
  assert.equal(back.storageWarning, undefined);
  assert.equal(JSON.parse(await readFile(entry, 'utf8')).tokens.refresh_token, 'rt-rotated-2');
  await assert.rejects(stat(home.authFile), { code: 'ENOENT' });
  assert.equal(rotating.reuseErrors, 0, 'no refresh token was used twice');
});

test('the real binding with no Secret Service to talk to: keyring mode is an error (not "signed out"), auto uses the file', async (t) => {
  const home = await tempHome();
  t.after(() => home.remove());
  // A bus that is not there. (Without pinning the Secret Service, the binding would quietly use
  // the kernel keyring and read "no entry".)
  const env = { DBUS_SESSION_BUS_ADDRESS: `unix:path=${join(home.path, 'no-bus')}` };
  const keyring = startServer(t, { codexHome: home.path, args: ['-c', 'cli_auth_credentials_store=keyring'], env });
  const status = await keyring.call('getAuthStatus');
  assert.equal(status.authError?.code, 'keyring_unavailable');
  assert.match(status.authError.message, /OS keyring is not usable/);
  assert.equal((await keyring.request('loginApiKey', { apiKey: 'sk-x' })).error?.code, -32603);
  await assert.rejects(stat(home.authFile), { code: 'ENOENT' });

  const auto = startServer(t, { codexHome: home.path, args: ['-c', 'cli_auth_credentials_store=auto'], env });
  await auto.call('loginApiKey', { apiKey: 'sk-auto-real' });
  const autoStatus = await auto.call('getAuthStatus', { includeToken: true });
  assert.equal(autoStatus.authToken, 'sk-auto-real');
  assert.equal(autoStatus.storage, 'file');
  assert.match(autoStatus.storageWarning, /OS keyring is not usable/);
  assert.ok(await stat(home.authFile));
});

test('a real secret service: gnome-keyring in a private D-Bus session', { timeout: 120_000 }, async (t) => {
  // support/secret-service.ts; a missing tool fails this test rather than skipping it (.ci/run installs them).
  const secrets = await startSecretService();
  const home = await tempHome();
  // keyring_poll_secs=1: the change stored below is found by a look at the entry, once a second here.
  const client = spawnServer({
    codexHome: home.path,
    args: ['-c', 'cli_auth_credentials_store=keyring', '-c', 'logout_revokes_tokens=false', '-c', 'keyring_poll_secs=1'],
    env: secrets.env,
  });
  t.after(async () => {
    client.kill();
    await client.exited;
    try {
      await secrets.close();
    } finally {
      await home.remove();
    }
  });
  await client.call('loginApiKey', { apiKey: 'sk-real-keyring' });
  await assert.rejects(stat(home.authFile), { code: 'ENOENT' });
  const status = await client.call('getAuthStatus', { includeToken: true });
  assert.equal(status.authToken, 'sk-real-keyring', 'read back from the secret service');
  assert.equal(status.storage, 'keyring');

  // The entry is where the original looks: service "Codex Auth", username cli|<hash>.
  const key = { service: KEYRING_SERVICE, username: keyringAccount(home.path) };
  assert.deepEqual(JSON.parse((await secrets.lookup(key)) ?? 'null'), { auth_mode: 'apikey', OPENAI_API_KEY: 'sk-real-keyring' });

  await client.call('logoutChatGpt');
  assert.equal((await client.call('getAuthStatus', { includeToken: true })).authToken, undefined);
  assert.equal(await secrets.lookup(key), undefined);

  // An entry stored the way the original's keyring-rs 3.6 stores it (extra `target` and
  // `application` attributes) is found, and noticed without a restart.
  const changed = nextAuthChange(client, 'apikey');
  await secrets.store('codex', { ...key, target: 'default', application: 'rust-keyring' }, JSON.stringify({ OPENAI_API_KEY: 'sk-stored-by-codex', tokens: null }));
  await changed;
  assert.equal((await client.call('getAuthStatus', { includeToken: true })).authToken, 'sk-stored-by-codex');
  await client.call('logoutChatGpt');
  assert.equal(await secrets.lookup(key), undefined);

  assert.deepEqual(await client.close(10_000), { code: 0, signal: null });
});
