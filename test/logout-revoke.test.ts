/**
 * Logout that revokes: success, an issuer failure (fail-closed), a timeout, local-only, the
 * access-token fallback, the config default and its per-call override, and keyring storage.
 */
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { KEYRING_SERVICE, keyringAccount } from '../src/auth/keyring-store.js';
import { startEmbeddedIssuer } from '../src/issuer/embedded-issuer.js';
import { signInAtIssuer } from '../src/issuer/scripted-sign-in.js';
import { entryFile } from './support/fake-keyring.js';
import { startFakeIssuer, type Reply } from './support/fake-issuer.js';
import { startServer } from './support/rpc-client.js';
import { tempHome } from './support/temp-home.js';
import { chatgptAuthRecord } from './support/tokens.js';

async function signedInWithFake(t: { after(fn: () => unknown): void }, reply: Reply, extraArgs: string[] = [], record?: object) {
  const issuer = await startFakeIssuer({ onRevoke: () => reply });
  t.after(() => issuer.close());
  const home = await tempHome();
  t.after(() => home.remove());
  await home.writeAuth(record ?? (await chatgptAuthRecord()));
  const client = startServer(t, { codexHome: home.path, args: ['-c', `auth_issuer=${issuer.url}`, '-c', 'revoke_timeout_secs=1', ...extraArgs] });
  return { issuer, home, client };
}

const revokeCalls = (issuer: { calls: { path: string; body: Record<string, string> }[] }) => issuer.calls.filter((c) => c.path === '/oauth/revoke');

test('logout revokes the refresh token at the embedded issuer, then removes auth.json', async (t) => {
  const issuer = await startEmbeddedIssuer();
  t.after(() => issuer.close());
  const home = await tempHome();
  t.after(() => home.remove());
  const client = startServer(t, { codexHome: home.path, args: ['-c', `auth_issuer=${issuer.url}`, '-c', 'login_callback_port=0'] });
  const { authUrl } = await client.call('loginChatGpt');
  await fetch(await signInAtIssuer(authUrl), { redirect: 'manual' });
  await client.waitForNotification('codex/event/login_chat_gpt_complete');
  assert.deepEqual(await client.call('logoutChatGpt'), { revoked: true });
  assert.equal(issuer.stats.revocations, 1);
  await assert.rejects(stat(home.authFile), { code: 'ENOENT' });
  assert.deepEqual((await client.waitForNotification('codex/event/auth_status_change', (p) => !p.authMethod)).params, {});
});

test('the revoke request is form-encoded with the refresh token and its hint', async (t) => {
  const { issuer, client } = await signedInWithFake(t, { status: 200 });
  assert.deepEqual(await client.call('logoutChatGpt'), { revoked: true });
  const call = issuer.calls.find((c) => c.path === '/oauth/revoke')!;
  assert.equal(call.contentType, 'application/x-www-form-urlencoded');
  assert.deepEqual(call.body, { token: 'rt-test-1', token_type_hint: 'refresh_token', client_id: 'app_EMoamEEZ73f0CkXaXp7hrann' });
});

test('a 503 from the issuer: -32603 with the reason, and the credentials are kept (fail-closed)', async (t) => {
  const { client, home } = await signedInWithFake(t, { status: 503 });
  const response = await client.request('logoutChatGpt');
  assert.equal(response.error?.code, -32603);
  assert.match(response.error!.message, /503/);
  assert.match(response.error!.message, /credentials were kept/);
  assert.ok(!response.error!.message.includes('rt-test-1'), 'no token in the error');
  assert.ok(await stat(home.authFile));
  assert.equal((await client.call('getAuthStatus')).authMethod, 'chatgpt');
});

test('a revocation that times out fails the logout and keeps the credentials', async (t) => {
  const { client, home } = await signedInWithFake(t, 'hang');
  const response = await client.request('logoutChatGpt', {}, 'slow', 20_000);
  assert.equal(response.error?.code, -32603);
  assert.match(response.error!.message, /did not answer/);
  assert.ok(await stat(home.authFile));
});

test('revoke:false only deletes locally, without calling the issuer', async (t) => {
  const { client, home, issuer } = await signedInWithFake(t, { status: 503 });
  assert.deepEqual(await client.call('logoutChatGpt', { revoke: false }), { revoked: false });
  await assert.rejects(stat(home.authFile), { code: 'ENOENT' });
  assert.equal(issuer.calls.filter((c) => c.path === '/oauth/revoke').length, 0);
  assert.deepEqual(await client.call('account/logout', { revoke: false }), { revoked: false });
});

test('with no refresh token stored, the access token is revoked instead', async (t) => {
  const record = await chatgptAuthRecord();
  record.tokens.refresh_token = '';
  const { issuer, client } = await signedInWithFake(t, { status: 200 }, [], record);
  assert.deepEqual(await client.call('logoutChatGpt'), { revoked: true });
  assert.deepEqual(revokeCalls(issuer).map((c) => c.body), [{ token: record.tokens.access_token, token_type_hint: 'access_token', client_id: 'app_EMoamEEZ73f0CkXaXp7hrann' }]);
});

test('a refresh token the issuer does not know (already revoked elsewhere) still counts as revoked: RFC 7009 answers 200', async (t) => {
  const issuer = await startEmbeddedIssuer();
  t.after(() => issuer.close());
  const home = await tempHome();
  t.after(() => home.remove());
  await home.writeAuth(await chatgptAuthRecord());
  const client = startServer(t, { codexHome: home.path, args: ['-c', `auth_issuer=${issuer.url}`] });
  assert.deepEqual(await client.call('logoutChatGpt'), { revoked: true });
  assert.equal(issuer.stats.revocations, 1);
  await assert.rejects(stat(home.authFile), { code: 'ENOENT' });
});

test('logout_revokes_tokens = false: logout only deletes locally, unless the call asks for {revoke: true}', async (t) => {
  const { issuer, client, home } = await signedInWithFake(t, { status: 200 }, ['-c', 'logout_revokes_tokens=false']);
  assert.deepEqual(await client.call('logoutChatGpt'), { revoked: false });
  assert.equal(revokeCalls(issuer).length, 0);
  await assert.rejects(stat(home.authFile), { code: 'ENOENT' });

  const seen = client.messages.length;
  await home.writeAuth(await chatgptAuthRecord());
  await client.waitFor((m) => client.messages.indexOf(m) >= seen && m.params?.authMethod === 'chatgpt', 'the new auth.json noticed');
  assert.deepEqual(await client.call('logoutChatGpt', { revoke: true }), { revoked: true });
  assert.deepEqual(revokeCalls(issuer).map((c) => c.body['token']), ['rt-test-1']);
  await assert.rejects(stat(home.authFile), { code: 'ENOENT' });
});

test('account/logout revokes by default too, and says so', async (t) => {
  const { issuer, client, home } = await signedInWithFake(t, { status: 200 });
  assert.deepEqual(await client.call('account/logout'), { revoked: true });
  assert.equal(revokeCalls(issuer).length, 1);
  await assert.rejects(stat(home.authFile), { code: 'ENOENT' });
});

test('with keyring storage, the refresh token is read from the keyring for the revocation, then the entry is removed', async (t) => {
  const issuer = await startFakeIssuer({ onRevoke: () => ({ status: 200 }) });
  t.after(() => issuer.close());
  const home = await tempHome();
  t.after(() => home.remove());
  const dir = await mkdtemp(join(tmpdir(), 'fake-keyring-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const entry = entryFile(dir, KEYRING_SERVICE, keyringAccount(home.path));
  const record = await chatgptAuthRecord();
  record.tokens.refresh_token = 'rt-in-keyring';
  await writeFile(entry, JSON.stringify(record));
  const client = startServer(t, {
    codexHome: home.path,
    args: ['-c', `auth_issuer=${issuer.url}`, '-c', 'cli_auth_credentials_store=keyring'],
    env: { CODEX_AUTH_MCP_KEYRING_MODULE: fileURLToPath(new URL('./support/fake-keyring.js', import.meta.url)), FAKE_KEYRING: 'memory', FAKE_KEYRING_DIR: dir },
  });
  assert.equal((await client.call('getAuthStatus')).storage, 'keyring');
  assert.deepEqual(await client.call('logoutChatGpt'), { revoked: true });
  assert.deepEqual(revokeCalls(issuer).map((c) => c.body['token']), ['rt-in-keyring']);
  await assert.rejects(readFile(entry), { code: 'ENOENT' });
});
