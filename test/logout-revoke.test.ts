/**
 * Logout that revokes: success, an issuer failure or timeout (best effort: removed anyway), local-only, the
 * access-token fallback, the config default and its per-call override, and keyring storage.
 */
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { KEYRING_SERVICE, keyringAccount } from '../src/auth/store/keyring-entry.js';
import { startEmbeddedIssuer } from '../dev/issuer/embedded-issuer.js';
import { signInAtIssuer } from '../dev/issuer/scripted-sign-in.js';
import { entryFile } from './support/fake-keyring.js';
import { startFakeIssuer, type Reply } from '../dev/fakes/fake-issuer.js';
import { startServer } from './support/spawn-server.js';
import { tempHome } from './support/temp-home.js';
import { chatgptAuthRecord } from '../dev/jwt.js';
import { fakeKeyringEnv } from './support/fake-keyring-env.js';

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

// Best effort, as current Codex (codex-rs `logout_with_revoke`): a person who is offline, or whose
// issuer is down, can still sign out here; the answer says the revocation failed. (0.25 and
// earlier versions of this server failed closed.)
test('a 503 from the issuer: the credentials are removed anyway, and the answer says the revocation failed', async (t) => {
  const { client, home } = await signedInWithFake(t, { status: 503 });
  const result = await client.call('logoutChatGpt');
  assert.equal(result.revoked, false);
  assert.equal(result.revokeError.code, 'revoke_rejected');
  assert.match(result.revokeError.message, /503/);
  assert.ok(!JSON.stringify(result).includes('rt-test-1'), 'no token in the answer');
  await assert.rejects(stat(home.authFile), { code: 'ENOENT' });
  assert.equal((await client.call('getAuthStatus')).authMethod, undefined);
  assert.match(client.stderr, /failed to revoke the tokens during logout/);
  assert.ok(!client.stderr.includes('rt-test-1'), 'no token in the log');
});

test('a revocation that times out: logged out locally within the revoke timeout, revokeError revoke_timeout', async (t) => {
  const { client, home } = await signedInWithFake(t, 'hang');
  const result = await client.call('account/logout', {});
  assert.deepEqual([result.revoked, result.revokeError.code], [false, 'revoke_timeout']);
  await assert.rejects(stat(home.authFile), { code: 'ENOENT' });
});

test('an unreachable issuer: logged out locally, revokeError revoke_unreachable', async (t) => {
  const { client, home, issuer } = await signedInWithFake(t, { status: 200 });
  await issuer.close();
  const result = await client.call('logoutChatGpt');
  assert.deepEqual([result.revoked, result.revokeError.code], [false, 'revoke_unreachable']);
  await assert.rejects(stat(home.authFile), { code: 'ENOENT' });
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
  const entry = entryFile(dir, KEYRING_SERVICE, keyringAccount(home.path));
  const record = await chatgptAuthRecord();
  record.tokens.refresh_token = 'rt-in-keyring';
  await writeFile(entry, JSON.stringify(record));
  const client = startServer(t, {
    codexHome: home.path,
    args: ['-c', `auth_issuer=${issuer.url}`, '-c', 'cli_auth_credentials_store=keyring'],
    env: fakeKeyringEnv('memory', dir),
  });
  // After startServer's hook, so it runs once the server (and with it its keyring helpers, which
  // write in `dir`) is gone: node:test runs after hooks in order and stops at the first failure.
  t.after(() => rm(dir, { recursive: true, force: true, maxRetries: 5 }));
  assert.equal((await client.call('getAuthStatus')).storage, 'keyring');
  assert.deepEqual(await client.call('logoutChatGpt'), { revoked: true });
  assert.deepEqual(revokeCalls(issuer).map((c) => c.body['token']), ['rt-in-keyring']);
  await assert.rejects(readFile(entry), { code: 'ENOENT' });
});
