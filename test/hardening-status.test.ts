/**
 * Issue 11, item 8: what the status tells (a model reads it through the status tool).
 * - A 0644 auth.json: the server's status warns, as the CLI did alone before.
 * - An auth.json that is not JSON: the error says where, never what the file holds (before, it
 *   quoted the text around the fault, a token's bytes among them).
 */
import assert from 'node:assert/strict';
import { chmod } from 'node:fs/promises';
import { test } from 'node:test';
import { startServer } from './support/spawn-server.js';
import { tempHome } from './support/temp-home.js';

test('a 0644 auth.json is warned about in getAuthStatus, account/read and the auth_status tool', async (t) => {
  const home = await tempHome();
  t.after(() => home.remove());
  await home.writeAuth({ auth_mode: 'apikey', OPENAI_API_KEY: 'sk-loose' }, 0o644);
  await chmod(home.authFile, 0o644);
  const client = startServer(t, { codexHome: home.path });
  const warning = `other users can read ${home.authFile} (mode 0644); run: chmod 600 ${home.authFile}`;
  const status = await client.call('getAuthStatus', {});
  assert.equal(status.authMethod, 'apikey');
  assert.equal(status.storageWarning, warning);
  assert.equal((await client.call('account/read', {})).storageWarning, warning);
  const tool = await client.call('tools/call', { name: 'auth_status', arguments: {} });
  assert.match(JSON.stringify(tool), /other users can read/);
  await chmod(home.authFile, 0o600);
  await client.call('loginApiKey', { apiKey: 'sk-tight' });
  assert.equal((await client.call('getAuthStatus', {})).storageWarning, undefined, 'gone once the file is 0600');
});

test('an auth.json that is not JSON: authError says where it breaks, and quotes none of it', async (t) => {
  const home = await tempHome();
  t.after(() => home.remove());
  const secret = 'eyJhbGciOiJub25lIn0.c2VjcmV0LXRva2VuLWJ5dGVz';
  for (const text of [`{"tokens": {"refresh_token": ${secret}}}`, `{"OPENAI_API_KEY": "sk-${secret}"`, `{\n  "a": 1,\n  "b": ${secret}\n}`]) {
    await home.writeAuth(text);
    const client = startServer(t, { codexHome: home.path });
    const status = await client.call('getAuthStatus', {});
    assert.match(status.authError?.message ?? '', /not valid JSON/);
    assert.doesNotMatch(status.authError.message, /eyJ|c2Vj|sk-|refresh_token/, `no bytes of the file in: ${status.authError.message}`);
    client.kill();
    await client.exited;
  }
});
