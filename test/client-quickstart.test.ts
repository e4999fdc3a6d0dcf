/**
 * The README's quick start, run by the real clients this machine has, with the snippets' text
 * taken from the README (placeholders mapped onto temporary paths; `codex-auth-mcp` on PATH):
 *  - Codex 0.171's app-server spawning our server from `[mcp_servers]` in its config.toml (the
 *    README's Codex snippet, with a custom CODEX_HOME): `mcpServerStatus/list`,
 *    `mcpServer/resource/read`, and `mcpServer/tool/call` after `thread/start` — the person sees
 *    *Signed in*. 0.171 starts a thread offline once a model provider is configured: a dummy one
 *    on a closed loopback port (nothing is ever sent to it; no turn is started). Beside it, the same
 *    server without `env` (what people wrote before) answers Signed out, naming ~/.codex and the
 *    fix, and one with `env_vars = ["CODEX_HOME"]` gets Codex's own CODEX_HOME;
 *  - the MCP Inspector CLI reading the README's `mcpServers` snippet as its config file;
 *  - the SDK v2 client (`versionNegotiation: auto`) given the command, args and env of the
 *    `mcpServers` snippet and of the VS Code snippet.
 * Claude Desktop, Cursor and VS Code themselves are not on this machine: their snippets are the
 * `mcpServers` / `servers` shapes exercised here.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { chmod, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { test, type TestContext } from 'node:test';
import { promisify } from 'node:util';
import { Client } from '@modelcontextprotocol/client';
import { StdioClientTransport } from '@modelcontextprotocol/client/stdio';
import { chatgptAuthRecord } from '../dev/jwt.js';
import { spawnAppServer } from './support/codex-app-server.js';
import { requireCodex0171, startRefusingProxy } from './support/codex-0171-offline.js';
import { projectRoot, serverEntry } from './support/paths.js';

const run = promisify(execFile);
const PLACEHOLDER_HOME = '/home/you/.codex';
const PLACEHOLDER_PROXY = 'http://proxy.example:3128';
const EMAIL = 'quickstart@example.com';
const SIGNED_IN = `Signed in with ChatGPT as ${EMAIL} (plan: plus).`;

/** The README's quick start section, and its fenced blocks of one language. */
async function quickStartBlocks(language: 'json' | 'toml'): Promise<string[]> {
  const readme = await readFile(join(projectRoot, 'README.md'), 'utf8');
  const section = readme.split('## Quick start: add it to your MCP client')[1]!.split('\n## ')[0]!;
  return [...section.matchAll(new RegExp('```' + language + '\\n([\\s\\S]*?)```', 'g'))].map((block) => block[1]!);
}

interface Setup {
  root: string;
  /** The person's CODEX_HOME, signed in with ChatGPT: what the snippets' placeholder stands for. */
  authHome: string;
  /** A HOME whose ~/.codex is empty: what a server reads when CODEX_HOME does not reach it. */
  userHome: string;
  bin: string;
  proxyUrl: string;
  fill(snippet: string): string;
}

async function setUp(t: TestContext): Promise<Setup> {
  const root = await mkdtemp(join(tmpdir(), 'codex-auth-mcp-quickstart-'));
  t.after(() => rm(root, { recursive: true, force: true }));
  const proxy = await startRefusingProxy();
  t.after(() => proxy.close());
  const authHome = join(root, 'person-codex-home');
  const userHome = join(root, 'user');
  const bin = join(root, 'bin');
  await Promise.all([mkdir(authHome, { mode: 0o700 }), mkdir(join(userHome, '.codex'), { recursive: true }), mkdir(bin)]);
  await writeFile(join(authHome, 'auth.json'), JSON.stringify(await chatgptAuthRecord({ email: EMAIL, planType: 'plus', accountId: 'acct-q' })), { mode: 0o600 });
  await writeFile(join(bin, 'codex-auth-mcp'), `#!/bin/sh\nexec "${process.execPath}" "${serverEntry}" "$@"\n`);
  await chmod(join(bin, 'codex-auth-mcp'), 0o755);
  const fill = (snippet: string) => snippet.replaceAll(PLACEHOLDER_HOME, authHome).replaceAll(PLACEHOLDER_PROXY, proxy.url);
  return { root, authHome, userHome, bin, proxyUrl: proxy.url, fill };
}

test("Codex 0.171's app-server runs the README's Codex snippet: listed, its resource read, and Signed in through mcpServer/tool/call", { timeout: 180_000 }, async (t) => {
  requireCodex0171();
  const setup = await setUp(t);
  const [snippet] = await quickStartBlocks('toml');
  assert.ok(snippet?.includes('[mcp_servers.codex-auth]'), 'the README has the Codex snippet');
  const codexHome = join(setup.root, 'codex-own-home');
  await mkdir(codexHome, { mode: 0o700 });
  await writeFile(
    join(codexHome, 'config.toml'),
    [
      // A model provider for thread/start offline: never called (no turn is started).
      'model_provider = "offline-dummy"',
      'model = "dummy-model"',
      '[model_providers.offline-dummy]',
      'name = "offline dummy"',
      'base_url = "http://127.0.0.1:9/v1"',
      'wire_api = "responses"',
      '',
      setup.fill(snippet!),
      // What people wrote before the quick start: no env at all.
      '[mcp_servers.no-env]',
      'command = "codex-auth-mcp"',
      'args = ["mcp"]',
      // The other form the README names: Codex's own CODEX_HOME passed on.
      '[mcp_servers.env-vars]',
      'command = "codex-auth-mcp"',
      'args = ["mcp"]',
      'env_vars = ["CODEX_HOME"]',
      '',
    ].join('\n'),
  );
  const app = spawnAppServer({
    codexHome,
    args: ['app-server', '--disable', 'plugins', '--disable', 'remote_plugin', '--disable', 'apps'],
    env: { PATH: `${setup.bin}:${process.env['PATH']}`, HOME: setup.userHome, HTTPS_PROXY: setup.proxyUrl, HTTP_PROXY: setup.proxyUrl, NO_PROXY: 'localhost,127.0.0.1', CODEX_AUTH_MCP_LOG: undefined },
  });
  t.after(() => app.close());
  await app.ready();

  const listed = await app.request('mcpServerStatus/list', {});
  assert.ok(listed.result, `mcpServerStatus/list: ${JSON.stringify(listed.error)}; ${app.stderr.slice(-1500)}`);
  const ours = listed.result.data.find((server: any) => server.name === 'codex-auth');
  assert.equal(ours?.serverInfo?.name, 'codex-auth-mcp', JSON.stringify(listed.result.data.map((s: any) => [s.name, s.serverInfo?.name])));
  assert.ok(ours.tools.auth_status, 'auth_status is listed');

  const read = await app.request('mcpServer/resource/read', { server: 'codex-auth', uri: 'codex-auth://status' });
  assert.equal(JSON.parse(read.result.contents[0].text).account.email, EMAIL, JSON.stringify(read));

  const thread = await app.request('thread/start', {});
  assert.ok(thread.result?.thread?.id, `thread/start offline: ${JSON.stringify(thread.error)}`);
  const call = (server: string) => app.request('mcpServer/tool/call', { threadId: thread.result.thread.id, server, tool: 'auth_status', arguments: {} });

  const signedIn = await call('codex-auth');
  assert.equal(signedIn.result?.content?.[0]?.text, SIGNED_IN, JSON.stringify(signedIn));
  assert.equal(signedIn.result.structuredContent.codexHome.path, setup.authHome);

  const noEnv = await call('no-env');
  const defaultHome = join(setup.userHome, '.codex');
  assert.match(noEnv.result.content[0].text, new RegExp(`^Signed out\\. Looked for credentials in ${defaultHome} \\(the default ~/\\.codex: CODEX_HOME is not set in this server's environment\\)\\. .*"env": \\{"CODEX_HOME": "/path/to/\\.codex"\\}`));
  assert.deepEqual(noEnv.result.structuredContent.codexHome, { path: defaultHome, source: 'default' });

  const envVars = await call('env-vars');
  assert.deepEqual(envVars.result.structuredContent.codexHome, { path: codexHome, source: 'env' }, 'env_vars passes Codex\'s own CODEX_HOME');
});

test("the MCP Inspector CLI reads the README's mcpServers snippet as its config: Signed in, and the status resource", { timeout: 120_000 }, async (t) => {
  const setup = await setUp(t);
  const snippet = (await quickStartBlocks('json')).find((block) => block.includes('"mcpServers"'));
  assert.ok(snippet, 'the README has the mcpServers snippet');
  const config = join(setup.root, 'mcp.json');
  await writeFile(config, setup.fill(snippet));
  const launcher = join(dirname(createRequire(import.meta.url).resolve('@modelcontextprotocol/inspector/package.json')), 'clients/launcher/build/index.js');
  const inspect = async (...args: string[]) => {
    const { stdout } = await run(process.execPath, [launcher, '--cli', '--config', config, '--server', 'codex-auth', '--format', 'json', '-q', ...args], {
      // Not the person's CODEX_HOME: only the snippet's env can bring it.
      env: { PATH: `${setup.bin}:${process.env['PATH']}`, HOME: setup.userHome },
      timeout: 60_000,
    });
    return JSON.parse(stdout).result;
  };
  const status = await inspect('--method', 'tools/call', '--tool-name', 'auth_status');
  assert.equal(status.content[0].text, SIGNED_IN);
  const read = await inspect('--method', 'resources/read', '--uri', 'codex-auth://status');
  assert.equal(JSON.parse(read.contents[0].text).account.email, EMAIL);
});

test("the SDK v2 client (versionNegotiation auto) starts the server as the README's mcpServers and VS Code snippets say: Signed in", { timeout: 120_000 }, async (t) => {
  const setup = await setUp(t);
  const blocks = await quickStartBlocks('json');
  const entries = [
    ['mcpServers', JSON.parse(setup.fill(blocks.find((b) => b.includes('"mcpServers"'))!)).mcpServers['codex-auth']],
    ['VS Code servers', JSON.parse(setup.fill(blocks.find((b) => b.includes('"servers"'))!)).servers['codex-auth']],
  ] as const;
  for (const [label, entry] of entries) {
    assert.equal(entry.env.CODEX_HOME, setup.authHome, label);
    const client = new Client({ name: 'quickstart-sdk-v2', version: '1.0.0' }, { versionNegotiation: { mode: 'auto' } });
    // As the SDK starts servers: its default environment (HOME, PATH, …) plus the snippet's env.
    const transport = new StdioClientTransport({ command: entry.command, args: entry.args, env: { PATH: `${setup.bin}:${process.env['PATH']}`, HOME: setup.userHome, ...entry.env }, stderr: 'pipe' });
    await client.connect(transport);
    t.after(() => client.close());
    const status = await client.callTool({ name: 'auth_status', arguments: {} });
    assert.equal((status.content as { text: string }[])[0]!.text, SIGNED_IN, label);
  }
});
