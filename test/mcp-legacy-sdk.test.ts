/**
 * The initialize era through the v1 SDK (`@modelcontextprotocol/sdk` 1.x, legacy only): it
 * negotiates 2025-11-25, sees tool annotations, and — having declared URL-mode elicitation — is
 * asked by the `login` tool to open the sign-in page with an `elicitation/create` of mode `url`,
 * then told the sign-in ended (`notifications/elicitation/complete`).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { ElicitationCompleteNotificationSchema, ElicitRequestSchema, ResourceUpdatedNotificationSchema } from '@modelcontextprotocol/sdk/types.js';
import { startEmbeddedIssuer } from '../dev/issuer/embedded-issuer.js';
import { signInAtIssuer } from '../dev/issuer/scripted-sign-in.js';
import { chatgptAuthRecord } from '../dev/jwt.js';
import { serverEntry } from './support/paths.js';
import { tempHome } from './support/temp-home.js';

type TestContext = { after(fn: () => unknown): void };

async function connect(t: TestContext, args: string[], capabilities: Record<string, unknown>) {
  const home = await tempHome();
  t.after(() => home.remove());
  const client = new Client({ name: 'sdk-v1-legacy', version: '1.0.0' }, { capabilities });
  const transport = new StdioClientTransport({
    command: process.execPath,
    args: [serverEntry, 'mcp', '-c', 'login_callback_port=0', ...args],
    env: { CODEX_HOME: home.path, PATH: process.env['PATH'] ?? '' },
    stderr: 'pipe',
  });
  await client.connect(transport);
  t.after(() => client.close());
  return { client, home };
}

const text = (result: unknown) => ((result as { content: { text: string }[] }).content[0]!).text;
const body = (read: { contents: unknown[] }) => JSON.parse((read.contents[0] as { text: string }).text);

test('SDK v1: 2025-11-25 negotiated; login asks through a URL-mode elicitation and answers once signed in', async (t) => {
  const issuer = await startEmbeddedIssuer();
  t.after(() => issuer.close());
  const { client } = await connect(t, ['-c', `auth_issuer=${issuer.url}`], { elicitation: { url: {} } });
  assert.equal(client.getServerVersion()?.name, 'codex-auth-mcp');
  const { tools } = await client.listTools();
  assert.deepEqual(tools.map((tool) => tool.annotations), [
    { readOnlyHint: true, openWorldHint: false },
    { readOnlyHint: false, destructiveHint: true, idempotentHint: false, openWorldHint: true },
    { readOnlyHint: false, destructiveHint: true, idempotentHint: true, openWorldHint: true },
    { readOnlyHint: true, openWorldHint: false },
    { readOnlyHint: false, destructiveHint: false, idempotentHint: true, openWorldHint: true },
  ]);

  const asked: { mode: string; url: string; elicitationId: string }[] = [];
  client.setRequestHandler(ElicitRequestSchema, async (request) => {
    const params = request.params as { mode: string; url: string; elicitationId: string };
    asked.push(params);
    assert.equal((await fetch(await signInAtIssuer(params.url), { redirect: 'manual' })).status, 302);
    return { action: 'accept' };
  });
  const completed = new Promise<string>((resolve) =>
    client.setNotificationHandler(ElicitationCompleteNotificationSchema, (notification) => resolve(notification.params.elicitationId)),
  );
  const result = await client.callTool({ name: 'login', arguments: { method: 'chatgpt' } });
  assert.equal(result.isError, undefined, text(result));
  assert.match(text(result), /^Signed in with ChatGPT as /);
  assert.equal(asked.length, 1);
  assert.equal(asked[0]!.mode, 'url');
  assert.ok(asked[0]!.url.startsWith(`${issuer.url}/oauth/authorize?`));
  assert.equal(asked[0]!.elicitationId, (result.structuredContent as Record<string, unknown>)['loginId']);
  assert.equal(await completed, asked[0]!.elicitationId);
});

test('SDK v1 without URL elicitation: login answers with the URL (no request sent); resources/subscribe hears an outside sign-in', async (t) => {
  const issuer = await startEmbeddedIssuer();
  t.after(() => issuer.close());
  const { client, home } = await connect(t, ['-c', `auth_issuer=${issuer.url}`], {});
  const answer = await client.callTool({ name: 'login', arguments: { method: 'chatgpt' } });
  assert.match(text(answer), /^Open this URL in a browser to sign in with ChatGPT:\n/);

  assert.equal(body(await client.readResource({ uri: 'codex-auth://status' })).authMethod, null);
  const updated = new Promise<string>((resolve) => client.setNotificationHandler(ResourceUpdatedNotificationSchema, (n) => resolve(n.params.uri)));
  await client.subscribeResource({ uri: 'codex-auth://status' });
  await home.writeAuth(await chatgptAuthRecord({ email: 'legacy@example.com', planType: 'pro', accountId: 'acc-legacy' }));
  assert.equal(await updated, 'codex-auth://status');
  const read = await client.readResource({ uri: 'codex-auth://status' });
  assert.equal(body(read).account.email, 'legacy@example.com');
});
