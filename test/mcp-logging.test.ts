/**
 * MCP logging (src/server/mcp/client-logs.ts): the server's log lines — the ones it writes to stderr,
 * redacted the same way — reach the client as `notifications/message`: in the initialize era once
 * it sent `logging/setLevel` (and not before), in the 2026-07-28 era only to a request whose `_meta`
 * carries `logLevel`, before its answer. The line used here is a real one: a logout whose token
 * revocation the issuer refuses logs a warning (src/server/actions/logout.ts).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { RpcMessage } from '../dev/rpc-client.js';
import { chatgptAuthRecord } from '../dev/jwt.js';
import { startFakeIssuer } from '../dev/fakes/fake-issuer.js';
import { startServer } from './support/spawn-server.js';
import { tempHome } from './support/temp-home.js';

const VERSION = 'io.modelcontextprotocol/protocolVersion';
const CAPABILITIES = 'io.modelcontextprotocol/clientCapabilities';
const LOG_LEVEL = 'io.modelcontextprotocol/logLevel';
const modernMeta = (extra: object = {}) => ({ _meta: { [VERSION]: '2026-07-28', [CAPABILITIES]: {}, ...extra } });

/** A server signed in with ChatGPT tokens whose issuer answers every revocation with a 503. */
async function signedIn(t: { after(fn: () => unknown): void }) {
  const issuer = await startFakeIssuer({ onRevoke: () => ({ status: 503 }) });
  t.after(() => issuer.close());
  const home = await tempHome();
  t.after(() => home.remove());
  await home.writeAuth(await chatgptAuthRecord());
  // stderr at the default (warn), so it is the client's level that decides what the client gets.
  return startServer(t, { codexHome: home.path, args: ['-c', `auth_issuer=${issuer.url}`, '-c', 'revoke_timeout_secs=1'] });
}

const logMessages = (messages: RpcMessage[]) => messages.filter((m) => m.method === 'notifications/message');
const REVOKE_WARNING = /failed to revoke the tokens during logout/;

test('initialize era: the logging capability; a bad level is -32602; before logging/setLevel no line goes to the client', async (t) => {
  const client = await signedIn(t);
  const initialized = await client.initialize('2025-06-18');
  assert.deepEqual(initialized.capabilities.logging, {});
  assert.equal((await client.request('logging/setLevel', { level: 'loud' })).error?.code, -32602);

  // A revoke failure before any setLevel: on stderr, not to the client.
  assert.equal((await client.call('logoutChatGpt')).revoked, false);
  assert.match(client.stderr, REVOKE_WARNING);
  assert.deepEqual(logMessages(client.messages), []);

});

test('initialize era: after setLevel warning, the revoke failure reaches the client with its fields, and no secret does', async (t) => {
  const client = await signedIn(t);
  await client.initialize('2025-06-18');
  assert.deepEqual(await client.call('logging/setLevel', { level: 'warning' }), {});
  assert.equal((await client.call('logoutChatGpt')).revoked, false);
  const [line] = logMessages(client.messages);
  assert.ok(line, 'a notifications/message came');
  assert.equal(line.params.level, 'warning');
  assert.equal(line.params.logger, 'codex-auth-mcp');
  assert.match(line.params.data.msg, REVOKE_WARNING);
  // Redacted by the rules of stderr: `code` is the name an OAuth authorization code goes by.
  assert.equal(line.params.data.code, '[redacted]');
  assert.match(client.stderr, /"code":"\[redacted\]"/);
  const wire = JSON.stringify(client.messages);
  for (const secret of ['rt-test-1', 'at-test-1']) assert.ok(!wire.includes(secret), `${secret} is not on the wire`);
  // `error` lets the warning through no more.
  await client.call('logging/setLevel', { level: 'error' });
  await client.call('loginApiKey', { apiKey: 'sk-test-logging-key' });
  assert.equal(logMessages(client.messages).length, 1);
});

test('2026-07-28: no logging/setLevel; a request with _meta logLevel gets its own lines before its answer, one without gets none', async (t) => {
  const client = await signedIn(t);
  const discover = await client.call('server/discover', modernMeta());
  assert.deepEqual(discover.capabilities.logging, {});
  assert.equal((await client.request('logging/setLevel', { level: 'debug', ...modernMeta() })).error?.code, -32601);
  assert.equal((await client.request('tools/list', modernMeta({ [LOG_LEVEL]: 'verbose' }))).error?.code, -32602);

  const logout = await client.request('tools/call', { name: 'logout', arguments: {}, ...modernMeta({ [LOG_LEVEL]: 'warning' }) });
  assert.equal(logout.error, undefined);
  const answerAt = client.messages.indexOf(logout);
  const lines = client.messages.map((m, at) => ({ m, at })).filter(({ m }) => m.method === 'notifications/message');
  assert.equal(lines.length, 1, JSON.stringify(lines));
  assert.ok(lines[0]!.at < answerAt, 'the line comes before the answer it belongs to');
  assert.equal(lines[0]!.m.params.level, 'warning');
  assert.match(lines[0]!.m.params.data.msg, REVOKE_WARNING);

  // The same failure for a request that did not ask: stderr only.
  await client.call('account/login/start', { type: 'apiKey', apiKey: 'sk-test-logging-key', ...modernMeta() });
  await client.call('tools/call', { name: 'logout', arguments: {}, ...modernMeta() });
  assert.equal(logMessages(client.messages).length, 1);
});
