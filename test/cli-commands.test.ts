/**
 * The CLI beside the server: `status`, `login` (browser, device code, API key from stdin) and
 * `logout`, with `-c` and CODEX_HOME as `serve` takes them. `login` runs in a real terminal
 * (tmux) to see its progress and its Ctrl-C.
 */
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { once } from 'node:events';
import { chmod, readFile, rm, stat } from 'node:fs/promises';
import { createServer } from 'node:net';
import { after, test } from 'node:test';
import { promisify } from 'node:util';
import { startEmbeddedIssuer } from '../dev/issuer/embedded-issuer.js';
import { eventually } from './support/eventually.js';
import { serverEntry } from './support/paths.js';
import { runCli } from './support/run-cli.js';
import { signedOutStatusText } from './support/signed-out.js';
import { tempHome, type TempHome } from './support/temp-home.js';
import { chatgptAuthRecord } from '../dev/jwt.js';

const run = promisify(execFile);
type TestContext = { after(fn: () => unknown): void };

async function home(t: TestContext): Promise<TempHome> {
  const dir = await tempHome();
  t.after(() => dir.remove());
  return dir;
}

/** The CLI run to its end (support/run-cli.ts) with debug logs. */
const cli = (codexHome: string, args: string[], options: { stdin?: string; env?: Record<string, string> } = {}) => runCli(codexHome, args, { ...options, logLevel: 'debug' });

/**
 * A program running in a real terminal (a tmux pane), kept on screen after it exits. This file's
 * panes live on a tmux server of their own, which stays up between tests (a server that exits
 * with its last session races the next test's new-session) and is killed at the end.
 */
const TMUX = ['-L', `codex-auth-mcp-cli-${process.pid}`, '-f', '/dev/null'];
const tmux = (...args: string[]) => run('tmux', [...TMUX, ...args]);
let socketPath: string | undefined;
after(async () => {
  await tmux('kill-server').catch(() => undefined);
  if (socketPath) await rm(socketPath, { force: true });
});
let sessions = 0;
async function terminal(t: TestContext, command: string) {
  const session = `cli-${++sessions}`;
  await tmux('new-session', '-d', '-s', session, '-x', '200', '-y', '50', `${command}; echo EXIT=$?; sleep 120`, ';', 'set-option', '-g', 'exit-empty', 'off');
  t.after(() => tmux('kill-session', '-t', session).catch(() => undefined));
  socketPath ??= (await tmux('display-message', '-p', '#{socket_path}')).stdout.trim();
  const screen = () => tmux('capture-pane', '-p', '-J', '-t', session).then((r) => r.stdout);
  return {
    screen,
    /** Resolves with the screen once it matches. */
    shows: (pattern: RegExp) =>
      eventually(async () => {
        const text = await screen();
        assert.match(text, pattern);
        return text;
      }, 30_000),
    keys: (...keys: string[]) => tmux('send-keys', '-t', session, ...keys),
  };
}

const cliCommand = (codexHome: string, args: string) => `CODEX_HOME=${codexHome} CODEX_AUTH_MCP_LOG=warn ${process.execPath} ${serverEntry} ${args}`;

/** Resolves when nothing listens on the port any more. */
const portIsFree = (port: number) =>
  new Promise<boolean>((resolve) => {
    const probe = createServer().once('error', () => resolve(false));
    probe.listen({ port, host: '127.0.0.1', exclusive: true }, () => probe.close(() => resolve(true)));
  });

test('status: exit 1 signed out, 0 signed in, 2 unusable; method, email, plan, expiry, where and with what mode', async (t) => {
  const dir = await home(t);
  assert.deepEqual(await cli(dir.path, ['status']), { code: 1, stdout: signedOutStatusText(dir.path), stderr: '' });

  await dir.writeAuth(await chatgptAuthRecord({ email: 'me@example.com', planType: 'pro', accountId: 'a' }));
  const text = await cli(dir.path, ['status']);
  assert.equal(text.code, 0);
  const lines = text.stdout.trim().split('\n');
  assert.equal(lines[0], 'Signed in with ChatGPT as me@example.com — plan pro.');
  assert.match(lines[1]!, /^Access token expires \d{4}-\d\d-\d\dT[\d:.]+Z\.$/);
  assert.equal(lines[2], `Credentials: ${dir.authFile} (mode 0600).`);

  const json = await cli(dir.path, ['status', '--json']);
  assert.equal(json.code, 0);
  const report = JSON.parse(json.stdout);
  assert.equal(report.authMethod, 'chatgpt');
  assert.deepEqual(report.account, { type: 'chatgpt', email: 'me@example.com', planType: 'pro', workspaceName: null });
  assert.ok(Date.parse(report.accessTokenExpiresAt) > Date.now());
  assert.deepEqual(report.storage, { kind: 'file', source: 'file', path: dir.authFile, fileMode: '0600', warning: null });
  assert.equal(report.authError, null);
  assert.equal(json.stdout.includes('rt-test-1'), false, 'no token in the report');

  await dir.writeAuth({ OPENAI_API_KEY: 'sk-x', tokens: null });
  await chmod(dir.authFile, 0o644);
  const loose = await cli(dir.path, ['status']);
  assert.equal(loose.code, 0);
  const looseWarning = `other users can read ${dir.authFile} (mode 0644); run: chmod 600 ${dir.authFile}`;
  assert.equal(loose.stdout, `Signed in with an API key.\nCredentials: ${dir.authFile} (mode 0644).\nWarning: ${looseWarning}\n`);
  // --json says the same: the warning the text gives, and the mode as four octal digits.
  assert.deepEqual(JSON.parse((await cli(dir.path, ['status', '--json'])).stdout).storage, { kind: 'file', source: 'file', path: dir.authFile, fileMode: '0644', warning: looseWarning });
  await chmod(dir.authFile, 0o000);
  const locked = JSON.parse((await cli(dir.path, ['status', '--json'])).stdout);
  assert.equal(locked.storage.fileMode, '0000');

  await dir.writeAuth('{"tokens": 5}');
  const broken = await cli(dir.path, ['status', '--json']);
  assert.equal(broken.code, 2);
  assert.equal(JSON.parse(broken.stdout).authError.code, 'auth_file_unreadable');
  const brokenText = await cli(dir.path, ['status']);
  assert.equal(brokenText.code, 2);
  assert.match(brokenText.stdout, /Problem: Stored credentials cannot be used/);

  // As Codex 0.171's `login status`: the environment's key signs nobody in.
  const envHome = (await home(t)).path;
  const env = await cli(envHome, ['status'], { env: { OPENAI_API_KEY: 'sk-env' } });
  assert.deepEqual(env, { code: 1, stdout: signedOutStatusText(envHome), stderr: '' });
});

test('-c before or after the command and CODEX_HOME work as for serve; a bad value stops with exit 2', async (t) => {
  const dir = await home(t);
  await dir.writeConfig('forced_login_method = "api"\n');
  for (const args of [['-c', 'login_callback_port=-1', 'status'], ['status', '-c', 'login_callback_port=-1'], ['logout', '--config', 'login_callback_port=-1']]) {
    const refused = await cli(dir.path, args);
    assert.equal(refused.code, 2, args.join(' '));
    assert.match(refused.stderr, /^codex-auth-mcp: .*login_callback_port/);
    assert.equal(refused.stdout, '');
  }
  // config.toml of that CODEX_HOME is read: device-code login is refused by its forced_login_method.
  const device = await cli(dir.path, ['login', '--device-auth']);
  assert.deepEqual([device.code, device.stderr], [1, 'codex-auth-mcp: ChatGPT login is disabled. Use API key login instead.\n']);
  // …and -c beats it.
  const overridden = await cli(dir.path, ['-c', 'forced_login_method="chatgpt"', 'login', '--with-api-key'], { stdin: 'sk-1\n' });
  assert.equal(overridden.code, 1);
  assert.match(overridden.stderr, /API key login is disabled/);
});

test('login --with-api-key reads the key from stdin only; logout removes it', async (t) => {
  const dir = await home(t);
  const login = await cli(dir.path, ['login', '--with-api-key'], { stdin: 'sk-from-stdin\n' });
  assert.deepEqual(login, { code: 0, stdout: 'Signed in with the API key.\n', stderr: '' });
  assert.deepEqual(JSON.parse(await readFile(dir.authFile, 'utf8')), { auth_mode: 'apikey', OPENAI_API_KEY: 'sk-from-stdin' });
  assert.equal((await stat(dir.authFile)).mode & 0o777, 0o600);
  assert.equal((await cli(dir.path, ['status'])).code, 0);

  const empty = await cli(dir.path, ['login', '--with-api-key'], { stdin: '  \n' });
  assert.equal(empty.code, 2);
  assert.match(empty.stderr, /no API key on stdin/);
  // Two keys, or one broken over lines: refused, and the key stored before stays.
  for (const stdin of ['sk-a\nsk-b', 'sk-a sk-b\n', 'sk-a\tb']) {
    const split = await cli(dir.path, ['login', '--with-api-key'], { stdin });
    assert.deepEqual([split.code, split.stdout], [2, ''], JSON.stringify(stdin));
    assert.match(split.stderr, /whitespace inside it .*nothing was stored/);
  }
  assert.equal(JSON.parse(await readFile(dir.authFile, 'utf8')).OPENAI_API_KEY, 'sk-from-stdin');
  const argv = await cli(dir.path, ['login', '--with-api-key', 'sk-on-the-command-line']);
  assert.equal(argv.code, 2, 'a key in argv is refused, as a usage error');
  assert.match(argv.stderr, /too many arguments|unknown/i);
  const both = await cli(dir.path, ['login', '--with-api-key', '--device-auth']);
  assert.equal(both.code, 2);
  assert.match(both.stderr, /cannot be used with/);

  const logout = await cli(dir.path, ['logout', '--local']);
  assert.deepEqual(logout, { code: 0, stdout: 'Signed out.\n', stderr: '' });
  await assert.rejects(stat(dir.authFile), { code: 'ENOENT' });
  assert.equal((await cli(dir.path, ['status'])).code, 1);
});

test('help texts: every command explains itself, with examples', async () => {
  const top = await run(process.execPath, [serverEntry, '--help']);
  for (const command of ['serve', 'status', 'login', 'logout']) assert.match(top.stdout, new RegExp(`\\n  ${command}\\b`));
  assert.match(top.stdout, /Examples:/);
  assert.match(top.stdout, /CODEX_HOME/);
  for (const command of ['serve', 'mcp', 'status', 'login', 'logout']) {
    const help = await run(process.execPath, [serverEntry, command, '--help']);
    assert.match(help.stdout, /Examples:\n  codex-auth-mcp /, command);
    assert.match(help.stdout, /-c, --config <key=value>/, command);
  }
  const login = await run(process.execPath, [serverEntry, 'login', '--help']);
  assert.match(login.stdout, /--device-auth/);
  assert.match(login.stdout, /printenv OPENAI_API_KEY \| codex-auth-mcp login --with-api-key/);
});

test('login in a terminal: the URL, progress that ticks, and Ctrl-C cancels, exits 130 and frees the port', async (t) => {
  const dir = await home(t);
  const tty = await terminal(t, cliCommand(dir.path, 'login -c login_callback_port=0 -c auth_issuer=http://127.0.0.1:9'));
  const shown = await tty.shows(/Waiting for you to sign in \(Ctrl-C to cancel\)… 0:0\d elapsed/);
  assert.match(shown, /Open this URL in a browser to sign in:\n\n {4}http:\/\/127\.0\.0\.1:9\/oauth\/authorize\?/);
  const port = Number(/127\.0\.0\.1%3A(\d+)/.exec(shown)![1]);
  assert.equal(await portIsFree(port), false, 'the callback server listens');
  // Progress: the elapsed time moves on.
  await tty.shows(/… 0:0[2-9] elapsed/);
  await tty.keys('C-c');
  const after = await tty.shows(/EXIT=130/);
  assert.match(after, /Cancelled\.\nEXIT=130/);
  assert.equal(await portIsFree(port), true, 'the port is free again');
  await assert.rejects(stat(dir.authFile), { code: 'ENOENT' });
});

test('login --device-auth in a terminal: the page and the code, then signed in once the code is entered', async (t) => {
  const issuer = await startEmbeddedIssuer({ deviceCodeInterval: '1' });
  t.after(() => issuer.close());
  const dir = await home(t);
  const tty = await terminal(t, cliCommand(dir.path, `login --device-auth -c auth_issuer=${issuer.url}`));
  const shown = await tty.shows(/Waiting for you to sign in \(Ctrl-C to cancel\)… \d:\d\d elapsed, code valid for 1[45]:\d\d/);
  assert.match(shown, new RegExp(`open this page on any device:\\n\\n {4}${issuer.url}/codex/device\\n`));
  assert.match(shown, /phishing/);
  const userCode = /and enter this code:\n\n {4}([A-Z0-9]{4}-[A-Z0-9]{5})\n/.exec(shown)![1]!;
  await issuer.approveDeviceCode(userCode, 'pro@example.com');
  const done = await tty.shows(/EXIT=\d+/);
  assert.match(done, /Signed in with ChatGPT as pro@example\.com — plan pro\.\nEXIT=0/);
  assert.equal((await stat(dir.authFile)).mode & 0o777, 0o600);
  const status = await cli(dir.path, ['status', '--json']);
  assert.equal(status.code, 0);
  assert.deepEqual(JSON.parse(status.stdout).account, { type: 'chatgpt', email: 'pro@example.com', planType: 'pro', workspaceName: null });
});

test('login --device-auth: Ctrl-C stops polling and exits 130; a failed sign-in exits 1 with the reason', async (t) => {
  const issuer = await startEmbeddedIssuer({ deviceCodeInterval: '1' });
  t.after(() => issuer.close());
  const dir = await home(t);
  const tty = await terminal(t, cliCommand(dir.path, `login --device-auth -c auth_issuer=${issuer.url}`));
  await tty.shows(/code valid for/);
  await tty.keys('C-c');
  assert.match(await tty.shows(/EXIT=\d+/), /Cancelled\.\nEXIT=130/);

  const expiring = await terminal(t, cliCommand(dir.path, `login --device-auth -c auth_issuer=${issuer.url} -c device_code_timeout_secs=2`));
  assert.match(await expiring.shows(/EXIT=\d+/), /Sign-in failed: device auth timed out after 2 seconds\nEXIT=1/);
  await assert.rejects(stat(dir.authFile), { code: 'ENOENT' });
});

test('login --with-api-key in a terminal prompts, takes the key typed there and never shows it', async (t) => {
  const dir = await home(t);
  const tty = await terminal(t, cliCommand(dir.path, 'login --with-api-key'));
  await tty.shows(/Paste or type the API key \(it is not shown\), then press Enter:/);
  await tty.keys('-l', 'sk-typed-inX');
  await tty.keys('BSpace'); // line editing still works while nothing is shown
  await tty.keys('Enter');
  const screen = await tty.shows(/EXIT=\d+/);
  assert.match(screen, /Signed in with the API key\.\nEXIT=0/);
  assert.equal(screen.includes('sk-typed'), false, `the key was shown:\n${screen}`);
  assert.deepEqual(JSON.parse(await readFile(dir.authFile, 'utf8')), { auth_mode: 'apikey', OPENAI_API_KEY: 'sk-typed-in' });

  // Ctrl-C at the prompt stores nothing and exits 130.
  const other = await home(t);
  const cancelled = await terminal(t, cliCommand(other.path, 'login --with-api-key'));
  await cancelled.shows(/it is not shown/);
  await cancelled.keys('-l', 'sk-half');
  await cancelled.keys('C-c');
  assert.match(await cancelled.shows(/EXIT=\d+/), /EXIT=130/);
  await assert.rejects(stat(other.authFile), { code: 'ENOENT' });
});

test('a bare codex-auth-mcp on a terminal says on stderr that it is an MCP server waiting for a client, and still serves', async (t) => {
  const dir = await home(t);
  const tty = await terminal(t, `${cliCommand(dir.path, '')} 2>&1`);
  const shown = await tty.shows(/waiting for an MCP client/);
  assert.match(shown, /this is an MCP server, waiting for an MCP client to speak JSON-RPC on stdin/);
  assert.match(shown, /"command": "codex-auth-mcp", "args": \["mcp"\]/);
  // The entry to paste names this terminal's CODEX_HOME: clients do not pass the environment.
  assert.match(shown.replace(/\s+/g, ''), new RegExp(`"env":\\{"CODEX_HOME":"${dir.path}"\\}`));
  assert.match(shown, /codex-auth-mcp status \| login \| logout/);
  await tty.keys('-l', '{"jsonrpc":"2.0","id":1,"method":"getAuthStatus"}');
  await tty.keys('Enter');
  await tty.shows(/\{"jsonrpc":"2\.0","id":1,"result":\{"preferredAuthMethod":"chatgpt"\}\}/);
  await tty.keys('C-d');
  assert.match(await tty.shows(/EXIT=\d+/), /EXIT=0/);
  // Not on a terminal (an MCP client's pipe), stderr stays quiet.
  const piped = await cli(dir.path, [], { stdin: '{"jsonrpc":"2.0","id":1,"method":"ping"}\n', env: { CODEX_AUTH_MCP_LOG: 'warn' } });
  assert.deepEqual([piped.code, piped.stdout, piped.stderr], [0, '{"jsonrpc":"2.0","id":1,"result":{}}\n', '']);
});
