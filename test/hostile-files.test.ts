/**
 * Issue 26, items 6, 9, 10 and 11: what may stand where the credentials and their locks go.
 *
 *  6. A FIFO at auth.json or at the account store: before the fix the read blocked a threadpool
 *     thread for good (requests unanswered, SIGTERM swallowed, Codex's locks held). Now only
 *     regular files are read: a clear error names the file and the fix.
 *  9. A lock file that is a symlink, a folder or a FIFO: before the fix every write failed with a
 *     bare ELOOP/EISDIR and a logout was impossible. Now the error names the file and the fix,
 *     and a logout goes ahead (as after the 1 s wait for a held lock).
 * 10. Credentials planted in an unsafe CODEX_HOME (0777, 0770, 01777, or a symlink another user
 *     made): before the fix they were read and served. Now they are refused with the message a
 *     write there gets.
 * 11. A corrupt account-store file: before the fix every second-account sign-in failed after its
 *     code was exchanged. Now the file is set aside (named, with the remedy) and the sign-in kept.
 *
 * A second user is played by uid 65534 (needs root, as test/hardening-home.test.ts).
 */
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, lchownSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync, existsSync, lstatSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { startEmbeddedIssuer } from '../dev/issuer/embedded-issuer.js';
import { signInAtIssuer } from '../dev/issuer/scripted-sign-in.js';
import { chatgptAuthRecord } from '../dev/jwt.js';
import type { RpcClient } from '../dev/rpc-client.js';
import { spawnServer, startServer } from './support/spawn-server.js';
import { tempHome } from './support/temp-home.js';
import { runCli } from './support/run-cli.js';
import { cleanEnv } from './support/codex-app-server.js';
import { requireCodex0171 } from './support/codex-0171-offline.js';

type T = { after(fn: () => unknown): void };
const OTHER_UID = 65534;
const claims = { email: 'user@example.com', planType: 'plus', accountId: 'acct-1' };

/** A server that may be wedged: stopped with SIGKILL at the end whatever happened. */
function wedgeableServer(t: T, codexHome: string, args: string[] = []): RpcClient {
  const client = spawnServer({ codexHome, args });
  t.after(async () => {
    client.kill();
    await client.exited;
  });
  return client;
}

/** Whether `path` can be flock'ed at once by another process (util-linux flock(1)). */
const lockIsFree = (path: string) => spawnSync('flock', ['-n', path, 'true']).status === 0;

/** SIGTERM, and the process is gone within `ms`. */
async function endsOnSigterm(client: RpcClient, ms = 5_000): Promise<void> {
  client.child.kill('SIGTERM');
  const timer = new Promise<'hung'>((resolve) => setTimeout(() => resolve('hung'), ms).unref());
  assert.notEqual(await Promise.race([client.exited, timer]), 'hung', `SIGTERM ended the server within ${ms} ms`);
}

test('item 6: a FIFO at auth.json is refused at once, named with the fix; every request is answered and SIGTERM works', async (t) => {
  const home = await tempHome();
  t.after(() => home.remove());
  execFileSync('mkfifo', ['-m', '600', home.authFile]);
  const client = wedgeableServer(t, home.path);
  const status = await client.request('getAuthStatus', { includeToken: true }, 'status', 5_000);
  assert.equal(status.result?.authMethod, undefined);
  assert.equal(status.result.authError.message, `Stored credentials cannot be used: ${home.authFile} is a FIFO (named pipe), not a regular file; remove it (rm ${home.authFile}) and sign in again`);
  const tool = await client.request('tools/call', { name: 'auth_status', arguments: {} }, 'tool', 5_000);
  assert.match(tool.result.content[0].text, /is a FIFO \(named pipe\), not a regular file/);
  assert.ok(lstatSync(home.authFile).isFIFO(), 'the FIFO itself is left alone');
  assert.ok(lockIsFree(join(home.path, 'auth.lock')) && lockIsFree(join(home.path, 'auth.json.lock')), "Codex's locks are free");
  await endsOnSigterm(client);
});

test("item 6: a FIFO at the account store fails the switch with its name; Codex's locks are let go; SIGTERM works", async (t) => {
  const home = await tempHome();
  t.after(() => home.remove());
  await home.writeAuth(await chatgptAuthRecord(claims));
  const store = join(home.path, 'codex-auth-mcp-accounts.json');
  execFileSync('mkfifo', ['-m', '600', store]);
  const client = wedgeableServer(t, home.path);
  const list = await client.request('accountSession/list', {}, 'list', 5_000);
  assert.match(JSON.stringify(list.error ?? list.result), /codex-auth-mcp-accounts\.json is a FIFO \(named pipe\), not a regular file; remove it/);
  const switched = await client.request('accountSession/switch', { sessionId: 'nobody' }, 'switch', 5_000);
  assert.ok(switched.error || switched.result, 'answered');
  assert.ok(lockIsFree(join(home.path, 'auth.lock')) && lockIsFree(join(home.path, 'auth.json.lock')), "Codex's locks are free");
  assert.equal((await client.request('getAuthStatus', {}, 'after', 5_000)).result.authMethod, 'chatgpt');
  await endsOnSigterm(client);
});

for (const [lockName, shape] of [
  ['auth.lock', 'symlink'],
  ['auth.json.lock', 'symlink'],
  ['auth.lock', 'folder'],
  ['auth.json.lock', 'folder'],
  ['auth.json.lock', 'fifo'],
] as const) {
  test(`item 9: ${lockName} as a ${shape} is named with the fix, and a logout still signs out`, async (t) => {
    const home = await tempHome();
    t.after(() => home.remove());
    await home.writeAuth({ OPENAI_API_KEY: 'sk-planted-before' });
    const lock = join(home.path, lockName);
    if (shape === 'symlink') symlinkSync(join(home.path, 'elsewhere'), lock);
    if (shape === 'folder') {
      mkdirSync(lock);
      writeFileSync(join(lock, 'x'), ''); // not empty: the once-only cleanup of an old lock folder leaves it
    }
    if (shape === 'fifo') execFileSync('mkfifo', ['-m', '600', lock]);
    const client = startServer(t, { codexHome: home.path });
    const login = await client.request('loginApiKey', { apiKey: 'sk-new' });
    const kind = { symlink: 'a symlink', folder: 'a folder', fifo: 'a FIFO \\(named pipe\\)' }[shape];
    const fix = shape === 'folder' ? `rm -r ${lock}` : `rm ${lock}`;
    assert.match(login.error?.message ?? '', new RegExp(`${lock.replace(/[.]/g, '\\.')} is ${kind}, not the empty regular file Codex locks; remove it \\(${fix.replace(/[.]/g, '\\.')}\\)`));
    const logout = await client.request('logoutChatGpt', {});
    assert.equal(logout.error, undefined, JSON.stringify(logout.error));
    assert.equal(existsSync(home.authFile), false, 'signed out');
    assert.equal((await client.call('getAuthStatus', {})).authMethod, undefined);
    assert.equal(existsSync(join(home.path, 'elsewhere')), false, 'nothing made through the link');
  });
}

/** The message a sign-in gets in `home`, and the status of the planted credentials there. */
async function readAndWriteAnswers(t: T, home: string) {
  const client = startServer(t, { codexHome: home });
  const status = await client.call('getAuthStatus', { includeToken: true });
  const write = await client.request('loginApiKey', { apiKey: 'sk-x' });
  const tool = await client.call('tools/call', { name: 'auth_status', arguments: {} });
  return { status, write: write.error?.message ?? '', tool: tool.content[0].text as string };
}

for (const mode of [0o777, 0o770, 0o1777]) {
  test(`item 10: credentials planted in a ${mode.toString(8)} CODEX_HOME are refused with the message a write gets`, async (t) => {
    const home = await tempHome();
    t.after(() => home.remove());
    await home.writeAuth({ OPENAI_API_KEY: 'sk-planted' });
    chmodSync(home.path, mode);
    const { status, write, tool } = await readAndWriteAnswers(t, home.path);
    assert.equal(status.authMethod, undefined, 'not served');
    assert.equal(status.authToken, undefined);
    assert.equal(status.authError.code, 'codex_home_unsafe');
    const expected = `refusing to store the credentials in ${home.path}: other users can write to it (mode 0${mode.toString(8)}); run: chmod go-w ${home.path}`;
    assert.ok(write.includes(expected), write); // refused before anything starts, in the words a write gets
    assert.equal(status.authError.message, `Stored credentials cannot be used: ${expected}`);
    assert.ok(tool.includes(expected));
    assert.doesNotMatch(JSON.stringify(status) + tool, /sk-planted/);
  });
}

test('item 10, beside Codex 0.171: it reads (and writes) credentials in a 0777 home; we refuse both, on purpose', async (t) => {
  // 0.171 has no such check (`codex login status` shows a key planted in a 0777, 0770 or 01777
  // home, or behind a CODEX_HOME symlink another user made, and `login --with-api-key` writes
  // there). Ours refuses: whoever can write to the folder can swap the file between any check and
  // the read, and so choose the account a person's agent works as (docs/unsafe-codex-home.md).
  const binary = requireCodex0171();
  const home = await tempHome();
  t.after(() => home.remove());
  await home.writeAuth({ OPENAI_API_KEY: 'sk-planted-0777' });
  await home.writeConfig('cli_auth_credentials_store = "file"\n');
  chmodSync(home.path, 0o777);
  const theirs = spawnSync(binary, ['login', 'status'], { env: cleanEnv({ CODEX_HOME: home.path }), encoding: 'utf8', timeout: 20_000 });
  assert.equal(theirs.status, 0, theirs.stderr);
  assert.match(theirs.stdout + theirs.stderr, /API key configured - sk-plant\*\*\*/, '0.171 serves the planted key');
  const ours = await runCli(home.path, ['status']);
  assert.equal(ours.code, 2, 'ours: credentials that cannot be used');
  assert.match(ours.stdout + ours.stderr, new RegExp(`refusing to store the credentials in ${home.path}: other users can write to it \\(mode 0777\\)`));
  assert.doesNotMatch(ours.stdout, /sk-plant/);
});

test('item 10: a CODEX_HOME that is a symlink another user made is refused for reading and writing alike', async (t) => {
  const parent = mkdtempSync(join(tmpdir(), 'codex-auth-mcp-link-'));
  t.after(() => rmSync(parent, { recursive: true, force: true }));
  const real = join(parent, 'real');
  mkdirSync(real, { mode: 0o700 });
  writeFileSync(join(real, 'auth.json'), JSON.stringify({ OPENAI_API_KEY: 'sk-planted' }), { mode: 0o600 });
  const link = join(parent, 'home');
  symlinkSync(real, link);
  lchownSync(link, OTHER_UID, OTHER_UID);
  const { status, write } = await readAndWriteAnswers(t, link);
  const expected = `refusing to store the credentials in ${link}: it is a symlink made by another user (uid ${OTHER_UID}, you are uid 0); remove it, or set CODEX_HOME to a folder of your own`;
  assert.ok(write.includes(expected), write); // refused before anything starts, in the words a write gets
  assert.equal(status.authMethod, undefined);
  assert.equal(status.authError.message, `Stored credentials cannot be used: ${expected}`);
});

test('item 10: an unsafe CODEX_HOME with nothing in it is simply signed out (nothing planted, nothing to refuse)', async (t) => {
  const home = await tempHome();
  t.after(() => home.remove());
  chmodSync(home.path, 0o777);
  const client = startServer(t, { codexHome: home.path });
  assert.deepEqual(await client.call('getAuthStatus', {}), { preferredAuthMethod: 'chatgpt' });
});

test('item 11: a corrupt account store does not block a second sign-in: it is set aside, named with the remedy, and both accounts are kept', async (t) => {
  const issuer = await startEmbeddedIssuer();
  t.after(() => issuer.close());
  const home = await tempHome();
  t.after(() => home.remove());
  const client = startServer(t, { codexHome: home.path, args: ['-c', `auth_issuer=${issuer.url}`, '-c', 'login_callback_port=0'] });
  await client.initialize();
  const signIn = async (email: string) => {
    const { loginId, authUrl } = await client.call('loginChatGpt', {});
    const completed = client.waitFor((m) => m.method === 'codex/event/login_chat_gpt_complete' && m.params?.loginId === loginId, `sign-in of ${email}`);
    await fetch(await signInAtIssuer(authUrl, email), { redirect: 'manual' });
    return (await completed).params;
  };
  assert.equal((await signIn('demo@example.com')).success, true);
  const store = join(home.path, 'codex-auth-mcp-accounts.json');
  writeFileSync(store, '{"version":1,"sessions":[{"truncated', { mode: 0o600 });

  const listed = await client.request('accountSession/list', {});
  const listError = JSON.stringify(listed.error ?? listed.result);
  assert.ok(listError.includes(`${store} is not valid JSON`), listError);
  assert.match(listError, /repair it, or move it aside and sign in to those accounts again/);

  const second = await signIn('pro@example.com');
  assert.equal(second.success, true, `the second sign-in is kept: ${second.error}`);
  const aside = readdirSync(home.path).filter((name) => name.startsWith('codex-auth-mcp-accounts.json.unreadable-'));
  assert.equal(aside.length, 1, 'the corrupt file is set aside');
  assert.equal(readFileSync(join(home.path, aside[0]!), 'utf8'), '{"version":1,"sessions":[{"truncated', 'kept as it was, for repair');
  assert.match(client.stderr, new RegExp(`set aside as ${join(home.path, aside[0]!).replace(/[.]/g, '\\.')}`));
  const { sessions } = await client.call('accountSession/list', {});
  assert.deepEqual(sessions.map((s: { email: string; isActive: boolean }) => [s.email, s.isActive]), [['pro@example.com', true], ['demo@example.com', false]]);
});

test('beside item 6: a FIFO at config.toml stops the start at once with a config error (exit 2), it does not hang', async (t) => {
  const home = await tempHome();
  t.after(() => home.remove());
  execFileSync('mkfifo', ['-m', '600', join(home.path, 'config.toml')]);
  const run = await runCli(home.path, ['status']);
  assert.equal(run.code, 2, run.stderr);
  assert.match(run.stderr, new RegExp(`config error: cannot read ${join(home.path, 'config.toml').replace(/[.]/g, '\\.')}: it is not a regular file`));
});
