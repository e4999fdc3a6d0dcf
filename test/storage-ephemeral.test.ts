/**
 * `cli_auth_credentials_store = "ephemeral"`, valid for Codex 0.171 in a shared config.toml: the
 * credentials live in the server's memory only. Nothing is written to CODEX_HOME (not even a lock
 * file), every thread of the server sees them (the login worker signs in, the token service
 * validates, the main thread answers), and they end with the process.
 */
import assert from 'node:assert/strict';
import { readdir, stat } from 'node:fs/promises';
import { test } from 'node:test';
import { signInAtIssuer } from '../dev/issuer/scripted-sign-in.js';
import { embeddedLoginSetup, expectLoginSucceeded } from './support/login-servers.js';
import { startServer } from './support/spawn-server.js';
import { tempHome } from './support/temp-home.js';

const EPHEMERAL = ['-c', 'cli_auth_credentials_store=ephemeral'];

test('ephemeral: an API-key sign-in is served from memory, nothing is written, and a restart is signed out', async (t) => {
  const home = await tempHome();
  t.after(() => home.remove());
  const first = startServer(t, { codexHome: home.path, args: EPHEMERAL });
  assert.deepEqual(await first.call('loginApiKey', { apiKey: 'sk-in-memory' }), {});
  assert.deepEqual((await first.waitForNotification('codex/event/auth_status_change')).params, { authMethod: 'apikey' });
  const status = await first.call('getAuthStatus', { includeToken: true });
  assert.deepEqual([status.authMethod, status.authToken, status.storage], ['apikey', 'sk-in-memory', 'memory']);
  assert.deepEqual((await first.call('account/read')).account, { type: 'apiKey' });
  assert.deepEqual(await readdir(home.path), [], 'no auth.json, no lock file, no temp file');
  assert.deepEqual(await first.call('logoutChatGpt', {}), { revoked: false });
  assert.equal((await first.call('getAuthStatus')).authMethod, undefined);
  assert.deepEqual(await first.call('loginApiKey', { apiKey: 'sk-again' }), {});
  assert.equal((await first.close()).code, 0);

  const second = startServer(t, { codexHome: home.path, args: EPHEMERAL });
  assert.equal((await second.call('getAuthStatus')).authMethod, undefined, 'the credentials ended with the process');
});

test('ephemeral: a ChatGPT sign-in in the login worker reaches the main thread through memory alone', async (t) => {
  const { client, home } = await embeddedLoginSetup(t, EPHEMERAL);
  const response = await client.request('loginChatGpt');
  await fetch(await signInAtIssuer(response.result.authUrl), { redirect: 'manual' });
  await expectLoginSucceeded(client, response);
  const status = await client.call('getAuthStatus', { includeToken: true });
  assert.equal(status.authMethod, 'chatgpt');
  assert.equal(typeof status.authToken, 'string');
  assert.equal((await client.call('account/read')).account.type, 'chatgpt');
  await assert.rejects(stat(home.authFile), { code: 'ENOENT' });
  assert.deepEqual(await readdir(home.path), []);
});
