/**
 * The CLI as a newcomer meets it (issue 25): a closed stdout is a quiet exit with the command's own
 * code; help without `(default: [])`, with examples for the accounts subcommands; suggestions for
 * `version` and a shortened option; the file-mode warning; an auth.json with nothing Codex knows;
 * a logout whose issuer is unreachable prints its warning and no log line; keys of ours written
 * under another [table] are warned about with line and column.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { createServer } from 'node:net';
import { test } from 'node:test';
import { chatgptAuthRecord } from '../dev/jwt.js';
import { serverEntry } from './support/paths.js';
import { runCli } from './support/run-cli.js';
import { tempHome } from './support/temp-home.js';

test('status with stdout closed before it writes (`status | head -1`): a quiet exit with its own code (0 signed in, 1 out), 20 times out of 20', async (t) => {
  const signedIn = await tempHome();
  const signedOut = await tempHome();
  t.after(() => Promise.all([signedIn.remove(), signedOut.remove()]));
  // Several lines (method, file, mode warning): before, the second write met the closed pipe and
  // the EPIPE was an uncaught error, a 27-line stack and exit 1, every time.
  await signedIn.writeAuth({ OPENAI_API_KEY: 'sk-epipe' }, 0o644);
  for (let i = 0; i < 20; i++) {
    const home = i % 2 === 0 ? signedIn : signedOut;
    const child = spawn(process.execPath, [serverEntry, 'status'], { env: { ...process.env, CODEX_HOME: home.path, CODEX_AUTH_MCP_LOG: 'warn' } });
    // The reader goes away at once: every write of the command meets a closed pipe (EPIPE).
    child.stdout.destroy();
    let stderr = '';
    child.stderr.on('data', (chunk) => (stderr += chunk));
    child.stdin.end();
    const [code, signal] = await once(child, 'exit');
    assert.deepEqual({ code, signal, stderr }, { code: home === signedIn ? 0 : 1, signal: null, stderr: '' }, `run ${i + 1}`);
  }
});

test('--help of every command: no "(default: [])"; accounts subcommands have examples; version and login --device get a suggestion', async (t) => {
  const home = await tempHome();
  t.after(() => home.remove());
  const commands = [[], ['serve'], ['status'], ['login'], ['logout'], ['accounts'], ['accounts', 'list'], ['accounts', 'switch'], ['accounts', 'remove']];
  for (const command of commands) {
    const help = await runCli(home.path, [...command, '--help']);
    assert.equal(help.code, 0, command.join(' '));
    assert.doesNotMatch(help.stdout, /default: \[\]/, command.join(' '));
    // `accounts` alone only groups its subcommands; every other command takes -c.
    if (command.join(' ') !== 'accounts') assert.match(help.stdout, /-c, --config <key=value>/, command.join(' '));
  }
  for (const sub of ['list', 'switch', 'remove']) {
    assert.match((await runCli(home.path, ['accounts', sub, '--help'])).stdout, new RegExp(`Examples:\\n  codex-auth-mcp accounts ${sub}`), sub);
  }
  const version = await runCli(home.path, ['version']);
  assert.equal(version.code, 2);
  assert.match(version.stderr, /unknown command 'version' \(did you mean '--version'\?\)/);
  // The exit codes the README gives the accounts commands.
  assert.equal((await runCli(home.path, ['accounts', 'list'])).code, 1, 'no account signed in');
  const unknown = await runCli(home.path, ['accounts', 'switch', 'nobody@example.com']);
  assert.deepEqual([unknown.code, unknown.stderr], [1, 'codex-auth-mcp: no signed-in account is nobody@example.com\n']);
  assert.equal((await runCli(home.path, ['accounts', 'remove', 'nobody@example.com'])).code, 1);
  assert.equal((await runCli(home.path, ['accounts'])).code, 2, 'a group without its subcommand is a usage error');
  const device = await runCli(home.path, ['login', '--device']);
  assert.deepEqual([device.code, device.stdout], [2, '']);
  assert.match(device.stderr, /unknown option '--device'\n\(Did you mean --device-auth\?\)/);
});

test('an auth.json others can read: the warning says "read"; an auth.json with nothing Codex knows says so', async (t) => {
  const home = await tempHome();
  t.after(() => home.remove());
  await home.writeAuth({ OPENAI_API_KEY: 'sk-mode' }, 0o644);
  assert.match((await runCli(home.path, ['status'])).stdout, new RegExp(`Warning: other users can read ${home.authFile} \\(mode 0644\\); run: chmod 600`));
  await home.writeAuth({ foo: 1 });
  const odd = await runCli(home.path, ['status']);
  assert.equal(odd.code, 2);
  assert.match(odd.stdout, /Problem: .*neither an API key \(OPENAI_API_KEY\) nor ChatGPT tokens are in it \(found: foo\); sign in again/);
  assert.doesNotMatch(odd.stdout, /plan type is required/);
});

test('logout with the issuer unreachable: its own warning on stderr, no raw log line before it', async (t) => {
  const home = await tempHome();
  t.after(() => home.remove());
  await home.writeAuth(await chatgptAuthRecord({ email: 'me@example.com', planType: 'plus', accountId: 'a' }));
  // A port nobody listens on: taken, then freed.
  const probe = createServer().listen(0, '127.0.0.1');
  await once(probe, 'listening');
  const port = (probe.address() as { port: number }).port;
  await new Promise((resolve) => probe.close(resolve));
  const logout = await runCli(home.path, ['logout', '-c', `auth_issuer="http://127.0.0.1:${port}"`, '-c', 'revoke_timeout_secs=5']);
  assert.equal(logout.code, 0);
  assert.equal(logout.stdout, 'Signed out.\n');
  assert.match(logout.stderr, /^Warning: the tokens could not be revoked at the issuer \(.+\); they were removed here\.\n$/);
  assert.doesNotMatch(logout.stderr, /"level"/);
});

test('a key of ours under another [table] (forced_login_method under [mcp_servers.auth]) is a warning naming line and column', async (t) => {
  const home = await tempHome();
  t.after(() => home.remove());
  await home.writeConfig('model = "o3"\n\n[mcp_servers.auth]\ncommand = "codex-auth-mcp"\n  forced_login_method = "chatgpt"\n\n[profiles.work]\npreferred_auth_method = "apikey"\n');
  const status = await runCli(home.path, ['status']);
  assert.equal(status.code, 1);
  assert.equal(
    status.stderr,
    `codex-auth-mcp: config warning: ${home.path}/config.toml:5:3: forced_login_method is under [mcp_servers.auth], where it is not read; move it above the first [table] line (or into a [profiles.<name>] table)\n`,
  );
});
