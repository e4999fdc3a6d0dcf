/** Auth as MCP tools through a generic MCP client, and the CLI in a real terminal. */
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { once } from 'node:events';
import { test } from 'node:test';
import { promisify } from 'node:util';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { eventually } from './support/eventually.js';
import { serverEntry } from './support/paths.js';
import { tempHome } from './support/temp-home.js';
import { chatgptAuthRecord } from './support/tokens.js';

const run = promisify(execFile);

test('the MCP SDK client lists and calls the auth tools', async (t) => {
  const home = await tempHome();
  t.after(() => home.remove());
  const client = new Client({ name: 'generic-mcp-client', version: '1.0.0' });
  await client.connect(
    new StdioClientTransport({ command: process.execPath, args: [serverEntry, 'mcp', '-c', 'login_callback_port=0', '-c', 'auth_issuer=http://127.0.0.1:9'], env: { CODEX_HOME: home.path, PATH: process.env['PATH'] ?? '' }, stderr: 'pipe' }),
  );
  t.after(() => client.close());
  const { tools } = await client.listTools();
  assert.deepEqual(tools.map((tool) => tool.name).sort(), ['auth_status', 'login', 'logout']);
  const login = tools.find((tool) => tool.name === 'login')!;
  assert.deepEqual((login.inputSchema.properties as any).method.enum, ['chatgpt', 'device_code', 'api_key']);
  assert.deepEqual(login.inputSchema.required, ['method']);

  const status = await client.callTool({ name: 'auth_status', arguments: {} });
  assert.match((status.content as any)[0].text, /Signed out/);
  assert.equal((status.structuredContent as any).account, null);

  const bad = await client.callTool({ name: 'login', arguments: { method: 'carrier_pigeon' } });
  assert.equal(bad.isError, true);
  assert.match((bad.content as any)[0].text, /^method: /);
  const noKey = await client.callTool({ name: 'login', arguments: { method: 'api_key' } });
  assert.equal(noKey.isError, true);
  assert.match((noKey.content as any)[0].text, /apiKey/);

  const apiKey = await client.callTool({ name: 'login', arguments: { method: 'api_key', apiKey: 'sk-tool' } });
  assert.equal(apiKey.isError, undefined);
  assert.equal((await client.callTool({ name: 'auth_status', arguments: {} }) as any).structuredContent.authMethod, 'apikey');

  const browser = await client.callTool({ name: 'login', arguments: { method: 'chatgpt' } });
  assert.match((browser.content as any)[0].text, /^Open this URL in a browser to sign in with ChatGPT:\nhttp:\/\/127\.0\.0\.1:9\/oauth\/authorize\?/);
  assert.ok((browser.structuredContent as any).loginId);

  const out = await client.callTool({ name: 'logout', arguments: {} });
  assert.match((out.content as any)[0].text, /^Signed out/);
  const unknown = await client.callTool({ name: 'nope', arguments: {} });
  assert.equal(unknown.isError, true);
});

test('status exit codes and --json: signed out 1, signed in 0, unusable 2', async (t) => {
  const home = await tempHome();
  t.after(() => home.remove());
  const status = (...args: string[]) =>
    run(process.execPath, [serverEntry, 'status', ...args], { env: { ...process.env, CODEX_HOME: home.path, OPENAI_API_KEY: '' } }).then(
      (r) => ({ code: 0, stdout: r.stdout }),
      (e: { code: number; stdout: string }) => ({ code: e.code, stdout: e.stdout }),
    );
  assert.deepEqual(await status(), { code: 1, stdout: 'Signed out.\n' });
  await home.writeAuth(await chatgptAuthRecord({ email: 'me@example.com', planType: 'pro', accountId: 'a' }));
  const signedIn = await status('--json');
  assert.equal(signedIn.code, 0);
  const report = JSON.parse(signedIn.stdout);
  assert.deepEqual(report.account, { type: 'chatgpt', email: 'me@example.com', planType: 'pro' });
  assert.equal(report.storage.fileMode, '0600');
  assert.ok(report.accessTokenExpiresAt);
  await home.writeAuth('{"tokens": 5}');
  const broken = await status();
  assert.equal(broken.code, 2);
  assert.match(broken.stdout, /Problem: Stored credentials cannot be used/);
});

test('login --with-api-key reads the key from stdin; logout removes it', async (t) => {
  const home = await tempHome();
  t.after(() => home.remove());
  const env = { ...process.env, CODEX_HOME: home.path };
  const login = spawn(process.execPath, [serverEntry, 'login', '--with-api-key'], { env });
  login.stdin.end('sk-from-stdin\n');
  let stdout = '';
  login.stdout.on('data', (chunk) => (stdout += chunk));
  assert.equal((await once(login, 'exit'))[0], 0);
  assert.match(stdout, /Signed in with the API key/);
  assert.deepEqual(JSON.parse(await import('node:fs/promises').then((fs) => fs.readFile(home.authFile, 'utf8'))), { OPENAI_API_KEY: 'sk-from-stdin', tokens: null });
  const logout = await run(process.execPath, [serverEntry, 'logout', '--local'], { env });
  assert.match(logout.stdout, /Signed out/);
});

test('login in a real terminal shows the URL and progress, and Ctrl-C cancels and frees the port', async (t) => {
  const home = await tempHome();
  t.after(() => home.remove());
  const session = `codex-auth-mcp-test-${process.pid}`;
  const command = `CODEX_HOME=${home.path} ${process.execPath} ${serverEntry} login -c login_callback_port=0 -c auth_issuer=http://127.0.0.1:9; echo EXIT=$?; sleep 60`;
  await run('tmux', ['new-session', '-d', '-s', session, '-x', '200', '-y', '50', command]);
  t.after(() => run('tmux', ['kill-session', '-t', session]).catch(() => undefined));
  const screen = () => run('tmux', ['capture-pane', '-p', '-J', '-t', session]).then((r) => r.stdout);
  const shown = await eventually(async () => {
    const text = await screen();
    assert.match(text, /Waiting for you to sign in \(Ctrl-C to cancel\)/);
    return text;
  });
  const port = Number(/localhost%3A(\d+)/.exec(shown)![1]);
  assert.ok(port > 0);
  await run('tmux', ['send-keys', '-t', session, 'C-c']);
  const after = await eventually(async () => {
    const text = await screen();
    assert.match(text, /EXIT=130/);
    return text;
  });
  assert.match(after, /Cancelled\./);
  const { createServer } = await import('node:net');
  await new Promise<void>((resolve, reject) => {
    const probe = createServer().once('error', reject);
    probe.listen(port, '127.0.0.1', () => probe.close(() => resolve()));
  });
});
