/**
 * Credential storage in the OS keyring: a real secret service (gnome-keyring in a private D-Bus
 * session that the test starts and ends), and fake keyrings that hang or fail for the timeout and
 * fallback paths.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { access, constants, mkdtemp, readdir, realpath, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { keyringAccount } from '../src/auth/keyring-store.js';
import { serverEntry } from './support/paths.js';
import { RpcClient, startServer } from './support/rpc-client.js';
import { tempHome } from './support/temp-home.js';

const fakeKeyring = fileURLToPath(new URL('./support/fake-keyring.js', import.meta.url));

async function withFakeKeyring(t: { after(fn: () => unknown): void }, behaviour: 'memory' | 'hang' | 'fail', mode: 'keyring' | 'auto') {
  const home = await tempHome();
  t.after(() => home.remove());
  const entries = await mkdtemp(`${tmpdir()}/fake-keyring-`);
  t.after(() => rm(entries, { recursive: true, force: true }));
  const client = startServer(t, {
    codexHome: home.path,
    args: ['-c', `cli_auth_credentials_store=${mode}`, '-c', 'logout_revokes_tokens=false'],
    env: { CODEX_AUTH_MCP_KEYRING_MODULE: fakeKeyring, FAKE_KEYRING: behaviour, FAKE_KEYRING_DIR: entries },
  });
  return { home, client, entries };
}

test('the keyring entry uses the original key: "cli|" + 16 hex of sha256(canonical CODEX_HOME)', async (t) => {
  const home = await tempHome();
  t.after(() => home.remove());
  const canonical = await realpath(home.path);
  assert.equal(keyringAccount(`${home.path}/.`), `cli|${createHash('sha256').update(canonical).digest('hex').slice(0, 16)}`);
});

test('keyring mode stores the record in the keyring, not in auth.json, and a leftover auth.json is removed', async (t) => {
  const { client, home, entries } = await withFakeKeyring(t, 'memory', 'keyring');
  await home.writeAuth({ OPENAI_API_KEY: 'sk-old-plaintext' });
  const before = await client.call('getAuthStatus', {});
  assert.equal(before.storageWarning !== undefined, true, 'a plaintext auth.json next to keyring storage is reported');
  await client.call('loginApiKey', { apiKey: 'sk-in-keyring' });
  await assert.rejects(stat(home.authFile), { code: 'ENOENT' });
  assert.equal((await readdir(entries)).length, 1);
  const status = await client.call('getAuthStatus', { includeToken: true });
  assert.deepEqual(status, { preferredAuthMethod: 'chatgpt', authMethod: 'apikey', authToken: 'sk-in-keyring', storage: 'keyring' });
  await client.call('logoutChatGpt');
  assert.equal((await readdir(entries)).length, 0);
  assert.equal((await client.call('getAuthStatus')).authMethod, undefined);
});

test('a keyring that hangs never hangs the server: other requests are answered, the status reports it', async (t) => {
  const { client } = await withFakeKeyring(t, 'hang', 'keyring');
  const status = client.request('getAuthStatus', {}, 'status', 15_000);
  assert.deepEqual(await client.call('ping'), {});
  const answer = await status;
  assert.equal(answer.result.authError.code, 'keyring_unavailable');
  assert.match(answer.result.authError.message, /did not answer within 3 s/);
});

test('keyring mode with a failing keyring is an error, never a silent file', async (t) => {
  const { client, home } = await withFakeKeyring(t, 'fail', 'keyring');
  const response = await client.request('loginApiKey', { apiKey: 'sk-x' });
  assert.equal(response.error?.code, -32603);
  assert.match(response.error!.message, /keyring/);
  await assert.rejects(stat(home.authFile), { code: 'ENOENT' });
});

test('auto mode falls back to auth.json when the keyring fails, and says so', async (t) => {
  const { client, home } = await withFakeKeyring(t, 'fail', 'auto');
  await client.call('loginApiKey', { apiKey: 'sk-auto' });
  assert.ok(await stat(home.authFile));
  const status = await client.call('getAuthStatus', { includeToken: true });
  assert.equal(status.authToken, 'sk-auto');
  assert.equal(status.storage, 'file');
  assert.match(status.storageWarning, /keyring is not usable/);
  const account = await client.call('account/read');
  assert.equal(account.storage, 'file');
  assert.match(account.storageWarning, /keyring is not usable/);
});

test('a real secret service: gnome-keyring in a private D-Bus session', async (t) => {
  for (const tool of ['/usr/bin/dbus-run-session', '/usr/bin/gnome-keyring-daemon']) {
    // CI installs these (.ci/run); a missing one fails this test rather than skipping it.
    await access(tool, constants.X_OK).catch(() => assert.fail(`${tool} is missing: apt-get install dbus gnome-keyring`));
  }
  const home = await tempHome();
  t.after(() => home.remove());
  const script = `echo -n test | gnome-keyring-daemon --unlock --components=secrets >/dev/null 2>&1; exec "${process.execPath}" "${serverEntry}" mcp -c cli_auth_credentials_store=keyring -c logout_revokes_tokens=false`;
  const child = spawn('dbus-run-session', ['--', 'sh', '-c', script], { env: { PATH: process.env['PATH'] ?? '', HOME: home.path, CODEX_HOME: home.path } });
  const client = new RpcClient(child);
  t.after(async () => {
    client.kill();
    await client.exited;
  });
  await client.call('loginApiKey', { apiKey: 'sk-real-keyring' });
  await assert.rejects(stat(home.authFile), { code: 'ENOENT' });
  const status = await client.call('getAuthStatus', { includeToken: true });
  assert.equal(status.authToken, 'sk-real-keyring', 'read back from the secret service');
  assert.equal(status.storage, 'keyring');
  await client.call('logoutChatGpt');
  assert.equal((await client.call('getAuthStatus', { includeToken: true })).authToken, undefined);
  assert.equal((await client.close()).code, 0);
});
