/**
 * What the CLI says when something is off, and with which exit code: usage errors (2), a log
 * level it does not know (a warning, never a failed start), a misspelt key of ours (a warning;
 * Codex's keys stay quiet), a CODEX_HOME that cannot be used (2, naming CODEX_HOME), and a
 * browser sign-in that a newer one replaced (the CLI and the old URL's page both say so).
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { test } from 'node:test';
import { serverEntry } from './support/paths.js';
import { runCli } from './support/run-cli.js';
import { startServer } from './support/spawn-server.js';
import { signedOutStatusText } from './support/signed-out.js';
import { tempHome, type TempHome } from './support/temp-home.js';

type TestContext = { after(fn: () => unknown): void };

async function home(t: TestContext): Promise<TempHome> {
  const dir = await tempHome();
  t.after(() => dir.remove());
  return dir;
}

/** The CLI run to its end (support/run-cli.ts). */
const cli = (codexHome: string, args: string[], options: { stdin?: string; env?: Record<string, string> } = {}) => runCli(codexHome, args, { ...options });

test('usage errors exit 2: an unknown command names the commands (and the one meant), unknown options, missing values', async (t) => {
  const dir = await home(t);
  const typo = await cli(dir.path, ['statsu']);
  assert.equal(typo.code, 2);
  assert.equal(typo.stdout, '');
  assert.match(typo.stderr, /^codex-auth-mcp: unknown command 'statsu' \(did you mean 'status'\?\)\nCommands: serve \(alias mcp, the default\), status, login, logout, accounts, help\./);
  const far = await cli(dir.path, ['frobnicate']);
  assert.equal(far.code, 2);
  assert.match(far.stderr, /unknown command 'frobnicate'\nCommands: /);
  const extra = await cli(dir.path, ['serve', 'extra']);
  assert.equal(extra.code, 2);
  assert.match(extra.stderr, /serve takes no arguments \(got 'extra'\)/);

  for (const args of [['status', '--jsno'], ['-c'], ['status', '-c'], ['login', '--bogus'], ['logout', 'now']]) {
    const refused = await cli(dir.path, args);
    assert.equal(refused.code, 2, `${args.join(' ')}: ${refused.stderr}`);
    assert.equal(refused.stdout, '');
    assert.match(refused.stderr, /error: |codex-auth-mcp: /, args.join(' '));
  }
  assert.match((await cli(dir.path, ['status', '--jsno'])).stderr, /unknown option '--jsno'\n\(Did you mean --json\?\)/);
  for (const args of [['--help'], ['help'], ['status', '--help'], ['--version']]) {
    assert.equal((await cli(dir.path, args)).code, 0, args.join(' '));
  }
  // Exit 1 stays "signed out".
  assert.equal((await cli(dir.path, ['status'])).code, 1);
});

test('a CODEX_AUTH_MCP_LOG that is no level warns once on stderr and uses the default; the server still starts', async (t) => {
  const dir = await home(t);
  const status = await cli(dir.path, ['status'], { env: { CODEX_AUTH_MCP_LOG: 'verbose' } });
  assert.deepEqual([status.code, status.stdout], [1, signedOutStatusText(dir.path)]);
  assert.equal(status.stderr, 'codex-auth-mcp: warning: CODEX_AUTH_MCP_LOG="verbose" is not a log level (trace, debug, info, warn, error, fatal, silent); logging at warn\n');
  assert.equal((await cli(dir.path, ['status'], { env: { CODEX_AUTH_MCP_LOG: 'INFO' } })).stderr.includes('warning'), false, 'a level in capitals is a level');

  const server = startServer(t, { codexHome: dir.path, env: { CODEX_AUTH_MCP_LOG: 'verbose' } });
  const initialized = await server.initialize();
  assert.equal(initialized.serverInfo.name, 'codex-auth-mcp');
  assert.deepEqual(await server.call('getAuthStatus', {}), { preferredAuthMethod: 'chatgpt' });
  assert.equal((await server.close()).code, 0);
  assert.equal(server.stderr.match(/is not a log level/g)?.length, 1, server.stderr);
});

test('a misspelt key of ours is a warning naming the key meant; Codex\'s own keys and far-off names stay quiet', async (t) => {
  const dir = await home(t);
  await dir.writeConfig(
    [
      'model = "o3"',
      'approval_policy = "never"',
      'mcp_oauth_credentials_store = "auto"',
      'forced_chatgpt_workspace_id = "ws"',
      'something_else_entirely = 1',
      'prefered_auth_method = "apikey"',
      '',
      '[profiles.work]',
      'model = "o4"',
      'login_timout_secs = 30',
      '',
      '[mcp_servers.x]',
      'command = "y"',
    ].join('\n'),
  );
  const file = join(dir.path, 'config.toml');
  const status = await cli(dir.path, ['status', '-c', 'auth_isuer="http://127.0.0.1:9"']);
  assert.equal(status.code, 1, status.stderr);
  assert.deepEqual(status.stderr.trim().split('\n'), [
    `codex-auth-mcp: config warning: ${file}:6:1: unknown key prefered_auth_method is ignored; did you mean preferred_auth_method?`,
    `codex-auth-mcp: config warning: ${file}:10:1: unknown key login_timout_secs is ignored; did you mean login_timeout_secs?`,
    `codex-auth-mcp: config warning: -c auth_isuer="http://127.0.0.1:9": unknown key auth_isuer is ignored; did you mean auth_issuer?`,
  ]);
  // The server warns the same way on stderr, and serves.
  const server = startServer(t, { codexHome: dir.path, env: { CODEX_AUTH_MCP_LOG: 'warn' } });
  await server.initialize();
  assert.match(server.stderr, /unknown key prefered_auth_method is ignored; did you mean preferred_auth_method\?/);

  const quiet = await home(t);
  await quiet.writeConfig('model = "o3"\nmodel_reasoning_effort = "high"\nchatgpt_base_url = "https://x"\npreferred_auth_method = "apikey"\n[tui]\nnotifications = true\n');
  assert.deepEqual(await cli(quiet.path, ['status']), { code: 1, stdout: signedOutStatusText(quiet.path), stderr: '' });
});

test('a CODEX_HOME that is a file, or sits under one, stops every command at once with exit 2 naming CODEX_HOME', async (t) => {
  const dir = await home(t);
  const file = join(dir.path, 'not-a-folder');
  await writeFile(file, 'x');
  for (const args of [['status'], ['status', '--json'], ['login', '--with-api-key'], ['logout'], ['mcp']]) {
    const refused = await cli(file, args, { stdin: 'sk-x\n' });
    assert.deepEqual([refused.code, refused.stdout], [2, ''], args.join(' '));
    assert.equal(refused.stderr, `codex-auth-mcp: CODEX_HOME (${file}) is not a folder; point CODEX_HOME at a folder (or unset it for ~/.codex)\n`);
  }
  const below = await cli(join(file, 'home'), ['status']);
  assert.equal(below.code, 2);
  assert.equal(below.stderr, `codex-auth-mcp: CODEX_HOME (${join(file, 'home')}) cannot be created: ${file} is not a folder\n`);
  // A CODEX_HOME that is set but does not exist is refused, as Codex 0.171 refuses it
  // (codex-home-missing.test.ts); only the default ~/.codex is made by the first sign-in.
  const userHome = join(dir.path, 'user');
  await mkdir(userHome);
  const fresh = join(userHome, '.codex');
  const asDefault = { env: { CODEX_HOME: '', HOME: userHome } };
  assert.equal((await cli('', ['status'], asDefault)).code, 1);
  assert.equal(existsSync(fresh), false, 'status creates nothing');
  assert.equal((await cli('', ['login', '--with-api-key'], { ...asDefault, stdin: 'sk-new\n' })).code, 0);
  assert.equal(existsSync(join(fresh, 'auth.json')), true);
});

test('a default ~/.codex that cannot be created (/proc/…) fails at once with a message, in the CLI and in the server', async (t) => {
  // Only the default is ever created (a CODEX_HOME that is set must exist): HOME decides it.
  const login = await cli('', ['login', '--with-api-key'], { stdin: 'sk-x\n', env: { CODEX_HOME: '', HOME: '/proc/nope' } });
  assert.equal(login.code, 2, 'no spinning: it ends, with exit 2');
  assert.equal(login.stderr, 'codex-auth-mcp: CODEX_HOME (/proc/nope/.codex) cannot be created: mkdir /proc/nope: ENOENT\n');

  const server = startServer(t, { codexHome: '', env: { CODEX_HOME: undefined, HOME: '/proc/nope/deeper' } });
  await server.initialize();
  const refused = await server.request('loginApiKey', { apiKey: 'sk-x' });
  // Refused early when /proc cannot be written by this user, else when the folder is made (as root): -32603 both.
  assert.equal(refused.error?.code, -32603, JSON.stringify(refused.error));
  assert.match(refused.error!.message, /CODEX_HOME \(\/proc\/nope\/deeper\/\.codex\) (cannot be created: mkdir \/proc\/nope: ENOENT|cannot hold a sign-in)/);
  assert.deepEqual(await server.call('ping'), {}, 'the server goes on');
});

/** A port nothing listens on right now. */
const freePort = () =>
  new Promise<number>((resolve) => {
    const probe = createServer().listen({ port: 0, host: '127.0.0.1' }, () => {
      const { port } = probe.address() as { port: number };
      probe.close(() => resolve(port));
    });
  });

test('two logins at once: the first says a newer sign-in replaced it, and its URL shows a page saying so', async (t) => {
  const dir = await home(t);
  const port = await freePort();
  const args = ['login', '-c', `login_callback_port=${port}`, '-c', 'auth_issuer=http://127.0.0.1:9'];
  const first = spawn(process.execPath, [serverEntry, ...args], { env: { ...process.env, CODEX_HOME: dir.path, CODEX_AUTH_MCP_LOG: 'warn' } });
  t.after(() => first.kill('SIGKILL'));
  let firstOut = '';
  first.stdout.on('data', (chunk) => (firstOut += chunk));
  while (!firstOut.includes('Waiting for you to sign in')) await once(first.stdout, 'data');
  const firstUrl = new URL(/ {4}(http\S+)/.exec(firstOut)![1]!);

  const second = spawn(process.execPath, [serverEntry, ...args], { env: { ...process.env, CODEX_HOME: dir.path, CODEX_AUTH_MCP_LOG: 'warn' } });
  t.after(() => second.kill('SIGKILL'));
  let secondOut = '';
  second.stdout.on('data', (chunk) => (secondOut += chunk));
  const [firstCode] = await once(first, 'exit');
  assert.equal(firstCode, 1);
  assert.match(firstOut, /This sign-in was replaced by a newer one .*\nFinish signing in in the browser window or terminal of the newer sign-in; this one has stopped\.\n$/);
  assert.doesNotMatch(firstOut, /Login was not completed/);
  while (!secondOut.includes('Waiting for you to sign in')) await once(second.stdout, 'data');

  // The person finishes in the first window: the issuer sends the browser back with the first state.
  const late = await fetch(`http://localhost:${port}/auth/callback?code=x&state=${encodeURIComponent(firstUrl.searchParams.get('state')!)}`);
  assert.equal(late.status, 400);
  const page = await late.text();
  assert.match(page, /<h1>This sign-in was replaced by a newer one<\/h1>/);
  assert.match(page, /window \(or with the URL\) of the newer sign-in/);
  second.kill('SIGINT');
  assert.equal((await once(second, 'exit'))[0], 130);
});
