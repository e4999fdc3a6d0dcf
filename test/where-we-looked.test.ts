/**
 * Issue 25: MCP clients do not pass the environment (the SDKs' stdio transport passes HOME,
 * LOGNAME, PATH, SHELL, TERM, USER), so the server often reads ~/.codex while the person signed in
 * with another CODEX_HOME. Every signed-out answer names the CODEX_HOME read, how it was chosen,
 * and the one-line fix: the auth_status tool (text and structuredContent), the status resource,
 * account/read (an extra field), `status` and `status --json`. getAuthStatus keeps 0.25's exact
 * shape (the differential test holds it equal to the original's).
 */
import assert from 'node:assert/strict';
import { test, type TestContext } from 'node:test';
import { runCli } from './support/run-cli.js';
import { signedOutStatusText, signedOutToolText } from './support/signed-out.js';
import { startServer } from './support/spawn-server.js';
import { defaultHome, tempHome } from './support/temp-home.js';

const FIX = '"env": {"CODEX_HOME": "/path/to/.codex"}';

async function serve(t: TestContext, codexHome: string, env: Record<string, string | undefined> = {}) {
  const client = startServer(t, { codexHome, env: { OPENAI_API_KEY: undefined, ...env } });
  await client.initialize();
  return client;
}

test('the default ~/.codex (CODEX_HOME not passed): every signed-out answer names it, says why, and gives the fix', async (t) => {
  const home = await defaultHome();
  t.after(() => home.remove());
  const client = await serve(t, '', home.env);
  const where = { path: home.path, source: 'default' };

  const tool = await client.call('tools/call', { name: 'auth_status', arguments: {} });
  assert.equal(
    tool.content[0].text,
    `Signed out. Looked for credentials in ${home.path} (the default ~/.codex: CODEX_HOME is not set in this server's environment). ` +
      `If you signed in with another CODEX_HOME, pass it to this server: add ${FIX} to its entry in your MCP client's config ` +
      `(in Codex's config.toml: env_vars = ["CODEX_HOME"] or env = { CODEX_HOME = "…" }). To sign in: call the login tool, or run \`codex-auth-mcp login\` in a terminal.`,
  );
  assert.deepEqual(tool.structuredContent.codexHome, where);

  const resource = JSON.parse((await client.call('resources/read', { uri: 'codex-auth://status' })).contents[0].text);
  assert.deepEqual(resource.codexHome, where);
  assert.match(resource.advice, new RegExp(`Looked for credentials in ${home.path} .*${FIX.replace(/[{}]/g, '\\$&')}`));

  assert.deepEqual(await client.call('account/read', {}), { account: null, userId: null, requiresOpenaiAuth: true, workspaceRouting: null, codexHome: where });
  // 0.25's getAuthStatus is left exactly as the original answers it (no extra field).
  assert.deepEqual(await client.call('getAuthStatus', {}), { preferredAuthMethod: 'chatgpt' });

  const text = await runCli('', ['status'], { env: { CODEX_HOME: '', HOME: home.env['HOME']! } });
  assert.deepEqual(text, {
    code: 1,
    stdout:
      `Signed out.\nLooked for credentials in ${home.path} (the default ~/.codex: CODEX_HOME is not set in the environment).\n` +
      'If you signed in with another CODEX_HOME, name it: CODEX_HOME=/path/to/.codex codex-auth-mcp status\nTo sign in: codex-auth-mcp login\n',
    stderr: '',
  });
  const json = JSON.parse((await runCli('', ['status', '--json'], { env: { CODEX_HOME: '', HOME: home.env['HOME']! } })).stdout);
  assert.deepEqual(json.codexHome, where);
  assert.equal(json.storage.path, home.authFile, 'the file it looked for, not null');
});

test('a CODEX_HOME from the environment: named as such, in the tool, the resource, account/read and the CLI', async (t) => {
  const home = await tempHome();
  t.after(() => home.remove());
  const client = await serve(t, home.path);
  const where = { path: home.path, source: 'env' };
  const tool = await client.call('tools/call', { name: 'auth_status', arguments: {} });
  assert.equal(tool.content[0].text, signedOutToolText(home.path));
  assert.deepEqual(tool.structuredContent.codexHome, where);
  assert.deepEqual(JSON.parse((await client.call('resources/read', { uri: 'codex-auth://status' })).contents[0].text).codexHome, where);
  assert.deepEqual((await client.call('account/read', {})).codexHome, where);
  assert.deepEqual(await runCli(home.path, ['status']), { code: 1, stdout: signedOutStatusText(home.path), stderr: '' });

  // Signed in: no advice, and account/read is 0.171's shape again.
  await home.writeAuth({ OPENAI_API_KEY: 'sk-where' });
  await client.waitForNotification('codex/event/auth_status_change', (p) => p.authMethod === 'apikey');
  assert.equal((await client.call('tools/call', { name: 'auth_status', arguments: {} })).content[0].text, 'Signed in with an OpenAI API key.');
  assert.equal((await client.call('account/read', {})).codexHome, undefined);
  assert.equal(JSON.parse((await client.call('resources/read', { uri: 'codex-auth://status' })).contents[0].text).advice, undefined);
});
