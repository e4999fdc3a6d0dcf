/**
 * The 2026-07-28 (stateless) era through a client nobody here wrote: the official MCP TypeScript
 * SDK v2 (`@modelcontextprotocol/client`) over its stdio transport, with version negotiation
 * `auto` (it probes `server/discover` on a sibling process first) and pinned to 2026-07-28. The
 * codex methods run on the same connection.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Client } from '@modelcontextprotocol/client';
import { StdioClientTransport } from '@modelcontextprotocol/client/stdio';
import { z } from 'zod';
import { startEmbeddedIssuer } from '../dev/issuer/embedded-issuer.js';
import { signInAtIssuer } from '../dev/issuer/scripted-sign-in.js';
import { chatgptAuthRecord } from '../dev/jwt.js';
import { serverEntry } from './support/paths.js';
import { tempHome, type TempHome } from './support/temp-home.js';

type TestContext = { after(fn: () => unknown): void };
type Mode = 'auto' | { pin: string };
type Seen = { method: string; params?: Record<string, unknown> };

async function connect(t: TestContext, mode: Mode, options: { home?: TempHome; args?: string[]; urlElicitation?: boolean } = {}) {
  const home = options.home ?? (await tempHome());
  t.after(() => home.remove());
  const client = new Client(
    { name: 'sdk-v2-modern', version: '1.0.0' },
    { versionNegotiation: { mode }, ...(options.urlElicitation && { capabilities: { elicitation: { url: {} } } }) },
  );
  // Everything the server sends that the SDK does not route to a handler of its own.
  const unrouted: Seen[] = [];
  client.fallbackNotificationHandler = async (notification) => void unrouted.push(notification as Seen);
  const transport = new StdioClientTransport({
    command: process.execPath,
    args: [serverEntry, 'mcp', '-c', 'login_callback_port=0', ...(options.args ?? [])],
    env: { CODEX_HOME: home.path, PATH: process.env['PATH'] ?? '' },
    stderr: 'pipe',
  });
  await client.connect(transport);
  t.after(() => client.close());
  return { client, home, unrouted };
}

const text = (result: { content?: unknown }) => ((result.content as { type: string; text: string }[])[0]!).text;

for (const mode of ['auto', { pin: '2026-07-28' }] satisfies Mode[]) {
  const label = typeof mode === 'string' ? mode : `pinned ${mode.pin}`;

  test(`SDK v2 (${label}): the modern era is chosen; tools listed with annotations; auth_status and a codex method answer`, async (t) => {
    const { client, unrouted } = await connect(t, mode);
    assert.equal(client.getProtocolEra(), 'modern');
    assert.equal(client.getNegotiatedProtocolVersion(), '2026-07-28');
    assert.equal(client.getServerVersion()?.name, 'codex-auth-mcp');
    assert.deepEqual(client.getDiscoverResult()?.supportedVersions, ['2026-07-28']);

    const { tools } = await client.listTools();
    assert.deepEqual(tools.map((tool) => [tool.name, tool.title, tool.annotations?.readOnlyHint]), [
      ['auth_status', 'Sign-in status', true],
      ['login', 'Sign in', false],
      ['logout', 'Sign out', false],
      ['list_accounts', 'Signed-in accounts', true],
      ['switch_account', 'Switch account', false],
    ]);
    const status = await client.callTool({ name: 'auth_status', arguments: {} });
    assert.match(text(status), /^Signed out\. Looked for credentials in /);
    assert.equal((status.structuredContent as Record<string, unknown>)['account'], null);

    // A codex method on the same modern connection: the SDK sends it with the modern _meta (and
    // takes the envelope off the result: it refuses a result without resultType).
    const codex = await client.request({ method: 'getAuthStatus', params: {} }, z.looseObject({ preferredAuthMethod: z.string() }));
    assert.equal(codex.preferredAuthMethod, 'chatgpt');
    assert.deepEqual(unrouted, [], 'nothing unsolicited');
  });
}

test('SDK v2 (pinned): the status resource; a sign-in made outside arrives on subscriptions/listen; no codex notifications', async (t) => {
  const { client, home, unrouted } = await connect(t, { pin: '2026-07-28' });
  const { resources } = await client.listResources();
  assert.deepEqual(resources.map((r) => [r.uri, r.mimeType]), [['codex-auth://status', 'application/json']]);
  // Read once, so the server has its first snapshot and what follows is a change, not the start.
  const before = await client.readResource({ uri: 'codex-auth://status' });
  assert.equal(JSON.parse((before.contents[0] as { text: string }).text).authMethod, null);

  const updated: string[] = [];
  let arrived!: () => void;
  const arrival = new Promise<void>((resolve) => (arrived = resolve));
  client.setNotificationHandler('notifications/resources/updated', (notification) => {
    updated.push(notification.params.uri);
    arrived();
  });
  const subscription = await client.listen({ resourceSubscriptions: ['codex-auth://status', 'codex-auth://nope'], toolsListChanged: true });
  // We honour only our resource (the tool list never changes).
  assert.deepEqual(subscription.honoredFilter, { resourceSubscriptions: ['codex-auth://status'] });

  // `codex login` in a terminal, or a sibling server: someone else writes auth.json.
  await home.writeAuth(await chatgptAuthRecord({ email: 'outside@example.com', planType: 'pro', accountId: 'acc-outside' }));
  await arrival;
  assert.deepEqual(updated, ['codex-auth://status']);
  const read = await client.readResource({ uri: 'codex-auth://status' }, { cacheMode: 'bypass' });
  const document = JSON.parse((read.contents[0] as { text: string }).text);
  assert.equal(document.authMethod, 'chatgpt');
  assert.deepEqual(document.account, { type: 'chatgpt', email: 'outside@example.com', planType: 'pro', workspaceName: null });
  assert.equal(JSON.stringify(document).includes('eyJ'), false, 'no token in the resource');
  assert.deepEqual(unrouted, [], 'no codex/event/* or account/* to a modern client that did not ask');

  await subscription.close();
  assert.equal(await subscription.closed, 'local');
});

test('SDK v2 (auto): login runs through its input_required loop (URL elicitation) against the embedded issuer', async (t) => {
  const issuer = await startEmbeddedIssuer();
  t.after(() => issuer.close());
  const { client, home, unrouted } = await connect(t, 'auto', { args: ['-c', `auth_issuer=${issuer.url}`], urlElicitation: true });
  const asked: { mode?: string; url?: string; message: string }[] = [];
  // The person: shown the URL, they sign in in their browser, then say they are done.
  client.setRequestHandler('elicitation/create', async (request) => {
    const params = request.params as { mode?: string; url?: string; message: string };
    asked.push(params);
    assert.ok(params.url?.startsWith(`${issuer.url}/oauth/authorize?`));
    assert.equal((await fetch(await signInAtIssuer(params.url!), { redirect: 'manual' })).status, 302);
    return { action: 'accept' };
  });
  const result = await client.callTool({ name: 'login', arguments: { method: 'chatgpt' } });
  assert.equal(result.isError, undefined, text(result));
  assert.match(text(result), /^Signed in with ChatGPT as /);
  assert.equal((result.structuredContent as Record<string, unknown>)['status'], 'signed_in');
  assert.equal(asked.length, 1);
  assert.equal(asked[0]!.mode, 'url');
  const stored = JSON.parse(await import('node:fs/promises').then((fs) => fs.readFile(home.authFile, 'utf8')));
  assert.ok(stored.tokens?.refresh_token, 'the sign-in was stored');
  assert.deepEqual(unrouted, [], 'the login completion is not pushed as a codex notification');
});

test('SDK v2 (pinned): a declined sign-in changes nothing; without URL elicitation the tool answers with the URL', async (t) => {
  const issuer = await startEmbeddedIssuer();
  t.after(() => issuer.close());
  const { client } = await connect(t, { pin: '2026-07-28' }, { args: ['-c', `auth_issuer=${issuer.url}`], urlElicitation: true });
  client.setRequestHandler('elicitation/create', async () => ({ action: 'decline' }));
  const declined = await client.callTool({ name: 'login', arguments: { method: 'chatgpt' } });
  assert.equal(text(declined), 'Sign-in declined; nothing was changed.');
  assert.match(text(await client.callTool({ name: 'auth_status', arguments: {} })), /^Signed out\. Looked for credentials in /);

  const { client: plain } = await connect(t, { pin: '2026-07-28' }, { args: ['-c', `auth_issuer=${issuer.url}`] });
  const answer = await plain.callTool({ name: 'login', arguments: { method: 'chatgpt' } });
  assert.match(text(answer), /^Open this URL in a browser to sign in with ChatGPT:\nhttp:\/\/127\.0\.0\.1:\d+\/oauth\/authorize\?/);
});

test('SDK v2 (pinned): login device_code asks to open the device page with the code in the message, and completes', async (t) => {
  const issuer = await startEmbeddedIssuer({ deviceCodeInterval: 1 });
  t.after(() => issuer.close());
  const { client } = await connect(t, { pin: '2026-07-28' }, { args: ['-c', `auth_issuer=${issuer.url}`], urlElicitation: true });
  const asked: { url?: string; message: string }[] = [];
  client.setRequestHandler('elicitation/create', async (request) => {
    const params = request.params as { url?: string; message: string };
    asked.push(params);
    // The person types the code shown in the message on the device page.
    const code = /enter the code (\S+)\./.exec(params.message)?.[1];
    assert.ok(code, params.message);
    await issuer.approveDeviceCode(code, 'device@example.com');
    return { action: 'accept' };
  });
  const result = await client.callTool({ name: 'login', arguments: { method: 'device_code' } });
  assert.match(text(result), /^Signed in with ChatGPT as device@example.com \(plan: /);
  assert.equal(asked[0]!.url, `${issuer.url}/codex/device`);
  assert.match(asked[0]!.message, /Never enter a code you did not start yourself/);
});
