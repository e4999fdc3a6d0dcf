/** Logout that revokes: success, an issuer failure (fail-closed), a timeout, and local-only. */
import assert from 'node:assert/strict';
import { stat } from 'node:fs/promises';
import { test } from 'node:test';
import { startEmbeddedIssuer } from '../src/issuer/embedded-issuer.js';
import { signInAtIssuer } from '../src/issuer/scripted-sign-in.js';
import { startFakeIssuer, type Reply } from './support/fake-issuer.js';
import { startServer } from './support/rpc-client.js';
import { tempHome } from './support/temp-home.js';
import { chatgptAuthRecord } from './support/tokens.js';

async function signedInWithFake(t: { after(fn: () => unknown): void }, reply: Reply) {
  const issuer = await startFakeIssuer({ onRevoke: () => reply });
  t.after(() => issuer.close());
  const home = await tempHome();
  t.after(() => home.remove());
  await home.writeAuth(await chatgptAuthRecord());
  const client = startServer(t, { codexHome: home.path, args: ['-c', `auth_issuer=${issuer.url}`, '-c', 'revoke_timeout_secs=1'] });
  return { issuer, home, client };
}

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
