/**
 * Several accounts lose no sign-in (issue 26): a switch during a refresh, a logout racing another
 * server's switch, a full disk under the account store, a crash at each write of a switch, a
 * shutdown holding unsaved tokens, removing an account. Every race is driven by the issuer
 * holding its answers (dev/fakes/accounts-issuer.ts), never by timing, and every test ends by
 * asking the issuer which accounts are still live: each of them must be on disk.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { test } from 'node:test';
import { accountsNamed, startAccountsIssuer, type AccountsIssuer, type AccountsIssuerOptions } from '../dev/fakes/accounts-issuer.js';
import type { RpcClient } from '../dev/rpc-client.js';
import { accountStoreHolding, activeEmailOf, lostAccounts, seedAccounts, sessionIdOf, storePath } from './support/accounts-home.js';
import { KEYRING_SERVICE, keyringAccount } from '../src/auth/store/keyring-entry.js';
import { entryFile } from './support/fake-keyring.js';
import { fakeKeyringEnv } from './support/fake-keyring-env.js';
import { runCli } from './support/run-cli.js';
import { smallDisk } from './support/small-disk.js';
import { startServer } from './support/spawn-server.js';
import { tempHome, type TempHome } from './support/temp-home.js';

type TestContext = { after(fn: () => unknown): void };

/** Resolves once the server's stderr (its log) has matched `pattern`. */
function logged(client: RpcClient, pattern: RegExp): Promise<void> {
  return new Promise((resolve) => {
    const check = () => {
      if (!pattern.test(client.stderr)) return false;
      client.child.stderr?.off('data', onData);
      resolve();
      return true;
    };
    const onData = () => setImmediate(check);
    if (!check()) client.child.stderr?.on('data', onData);
  });
}

async function setup(t: TestContext, count: number, options: AccountsIssuerOptions = {}) {
  const issuer = await startAccountsIssuer(accountsNamed(count), options);
  t.after(() => issuer.close());
  const home = await tempHome();
  t.after(() => home.remove());
  return { issuer, home };
}

const serverArgs = (issuer: AccountsIssuer, extra: string[] = []) => ['-c', `auth_issuer=${issuer.url}`, '-c', 'login_callback_port=0', ...extra];

function server(t: TestContext, home: TempHome, issuer: AccountsIssuer, extra: string[] = [], env: Record<string, string> = {}): RpcClient {
  return startServer(t, { codexHome: home.path, args: serverArgs(issuer, extra), env: { CODEX_AUTH_MCP_LOG: 'debug', ...env } });
}

const userOf = (issuer: AccountsIssuer, email: string) => issuer.accounts.find((a) => a.email === email)!;
const switchParams = (issuer: AccountsIssuer, email: string) => ({ sessionId: sessionIdOf(userOf(issuer, email).userId), accountId: userOf(issuer, email).accountId });

test('1: a switch while the same server refreshes the active account keeps the rotated tokens', async (t) => {
  const { issuer, home } = await setup(t, 2);
  await seedAccounts(home.path, issuer, 'user0@example.com', ['user1@example.com']);
  const client = server(t, home, issuer);
  await client.initialize();
  await client.call('getAuthStatus', {});

  const release = issuer.holdRefreshes();
  const refreshing = client.call('getAuthStatus', { includeToken: true, refreshToken: true });
  await issuer.refreshArrived(1);
  const switching = client.call('accountSession/switch', switchParams(issuer, 'user1@example.com'));
  // The switch request has been taken up once a later request is answered (one stdin, in order).
  await client.call('ping', {});
  release();
  await Promise.all([refreshing, switching]);

  assert.equal(await activeEmailOf(home.path), 'user1@example.com');
  assert.deepEqual(await lostAccounts(home.path, issuer), [], 'every live account is on disk');
  assert.equal(issuer.reuseAnswers, 0);
  // The old account refreshes with what the store kept: no reuse, no sign-in needed.
  await client.call('accountSession/switch', switchParams(issuer, 'user0@example.com'));
  const status = await client.call('getAuthStatus', { includeToken: true, refreshToken: true });
  assert.equal(status.authMethod, 'chatgpt');
  assert.equal(status.authError, undefined, JSON.stringify(status.authError));
  assert.equal(issuer.reuseAnswers, 0);
  assert.deepEqual(await lostAccounts(home.path, issuer), []);
});

test('2: a logout deletes only the record it revoked, not the account another server just switched to', async (t) => {
  const { issuer, home } = await setup(t, 2);
  await seedAccounts(home.path, issuer, 'user0@example.com', ['user1@example.com']);
  const [one, two] = [server(t, home, issuer), server(t, home, issuer)];
  await Promise.all([one.initialize(), two.initialize()]);

  const release = issuer.holdRevocations();
  const loggingOut = one.call('account/logout', {});
  await issuer.revocationArrived(1);
  await two.call('accountSession/switch', switchParams(issuer, 'user1@example.com'));
  release();
  await loggingOut;

  assert.ok(issuer.isRevoked('user0@example.com'), 'the account signed out is revoked');
  assert.deepEqual(await lostAccounts(home.path, issuer), [], 'the account switched to is kept (or revoked), never dropped live');
  const listed = await two.call('accountSession/list', {});
  assert.deepEqual(
    listed.sessions.map((s: { email: string }) => s.email),
    issuer.isRevoked('user1@example.com') ? [] : ['user1@example.com'],
    'the revoked account is not offered any more',
  );
});

test('12: removing an inactive account revokes its tokens, unless asked to keep them', async (t) => {
  const { issuer, home } = await setup(t, 3);
  await seedAccounts(home.path, issuer, 'user0@example.com', ['user1@example.com', 'user2@example.com']);
  const removed = await runCli(home.path, ['accounts', 'remove', 'user1@example.com', ...serverArgs(issuer)]);
  assert.equal(removed.code, 0, removed.stderr);
  assert.match(removed.stdout, /Removed user1@example\.com\. Its tokens were revoked at the issuer\./);
  assert.ok(issuer.isRevoked('user1@example.com'), 'the removed account is revoked');

  const kept = await runCli(home.path, ['accounts', 'remove', 'user2@example.com', '--keep-tokens', ...serverArgs(issuer)]);
  assert.equal(kept.code, 0, kept.stderr);
  assert.equal(issuer.isRevoked('user2@example.com'), false, '--keep-tokens leaves them live at the issuer');
  assert.equal(issuer.isRevoked('user0@example.com'), false, 'the active account is untouched');
  assert.equal(await activeEmailOf(home.path), 'user0@example.com');
});

test('5: on shutdown, refreshed tokens held unsaved get their last write', async (t) => {
  const { issuer } = await setup(t, 1);
  const disk = smallDisk(t);
  await seedAccounts(disk.path, issuer, 'user0@example.com', []);
  const client = startServer(t, { codexHome: disk.path, args: serverArgs(issuer), env: { CODEX_AUTH_MCP_LOG: 'debug' } });
  await client.initialize();
  assert.equal((await client.call('getAuthStatus', {})).authMethod, 'chatgpt');
  disk.fill();
  const refreshed = await client.call('getAuthStatus', { includeToken: true, refreshToken: true });
  assert.equal(refreshed.authError?.code, 'persist_failed', 'the rotated tokens are held in memory');
  // Room again, and the server is told to stop before its first retry (1 s later) comes round.
  disk.free();
  const exit = await client.close();
  assert.equal(exit.code, 0);
  assert.deepEqual(await lostAccounts(disk.path, issuer), [], 'the live refresh token is on disk');
  assert.equal(issuer.reuseAnswers, 0);
});

test('5b: a background refresh already sent at shutdown is written before the thread goes, however long it takes', async (t) => {
  const { issuer, home } = await setup(t, 2);
  await seedAccounts(home.path, issuer, 'user0@example.com', ['user1@example.com']);
  const client = server(t, home, issuer, ['-c', 'account_sessions_refresh_after_secs=0']);
  await client.initialize();
  const release = issuer.holdRefreshes();
  await issuer.refreshArrived(1); // the inactive account's refresh: the issuer has rotated its token
  const closing = client.close(15_000);
  // Answered only after the server's shutdown grace (1.5 s, a timer inside the server that no
  // event announces) has run out: before the fix the token service was let go at that point.
  const late = setTimeout(release, 3_000);
  t.after(() => clearTimeout(late));
  assert.equal((await closing).code, 0);
  assert.equal(issuer.rotations, 1);
  assert.deepEqual(await lostAccounts(home.path, issuer), [], 'the rotated token of the inactive account is on disk');
  assert.equal(issuer.reuseAnswers, 0);
});

test('3a: the background pass over inactive accounts keeps rotated tokens the account store cannot take (full disk)', async (t) => {
  const { issuer } = await setup(t, 2);
  const disk = smallDisk(t);
  await seedAccounts(disk.path, issuer, 'user0@example.com', ['user1@example.com']);
  disk.fill();
  // Every inactive session is due at once; the first pass comes a second after the start.
  const client = startServer(t, { codexHome: disk.path, args: serverArgs(issuer, ['-c', 'account_sessions_refresh_after_secs=0']), env: { CODEX_AUTH_MCP_LOG: 'debug' } });
  await client.initialize();
  await issuer.refreshArrived(1);
  await logged(client, /inactive account/);
  assert.doesNotMatch(client.stderr, /"refreshed inactive account sessions"/, 'no "refreshed" when nothing was stored');
  disk.free();
  assert.equal((await client.close()).code, 0);
  assert.equal(issuer.rotations, 1);
  assert.deepEqual(await lostAccounts(disk.path, issuer), [], 'the inactive account keeps its live token');
});

test('3b: a switch whose refreshed target cannot be stored (full disk) loses nothing and succeeds later', async (t) => {
  // Tokens born expired: the switch refreshes its target first.
  const { issuer } = await setup(t, 2, { accessTtlSecs: -60 });
  const disk = smallDisk(t);
  await seedAccounts(disk.path, issuer, 'user0@example.com', ['user1@example.com']);
  const client = startServer(t, { codexHome: disk.path, args: serverArgs(issuer), env: { CODEX_AUTH_MCP_LOG: 'debug' } });
  await client.initialize();
  await client.call('accountSession/list', {});
  const rotationsBefore = issuer.rotations; // the active account, expired too, may have been refreshed already
  disk.fill();
  const refused = await client.request('accountSession/switch', switchParams(issuer, 'user1@example.com'));
  assert.ok(refused.error, 'the switch did not happen');
  assert.ok(issuer.rotations > rotationsBefore, 'the target was refreshed');
  assert.equal(await activeEmailOf(disk.path), 'user0@example.com');
  disk.free();
  await client.call('accountSession/switch', switchParams(issuer, 'user1@example.com'));
  assert.equal(await activeEmailOf(disk.path), 'user1@example.com');
  assert.equal(issuer.reuseAnswers, 0, 'the spent refresh token was never presented');
  assert.deepEqual(await lostAccounts(disk.path, issuer), []);
});

const switchThenDie = fileURLToPath(new URL('./support/switch-then-die.js', import.meta.url));

/** A switch (the token service's own code) killed by SIGKILL in place of its `killAt`-th write. */
async function switchKilledAt(home: string, issuer: AccountsIssuer, email: string, killAt: number): Promise<string | null> {
  const { sessionId, accountId } = switchParams(issuer, email);
  const child = spawn(process.execPath, [switchThenDie, home, issuer.url, sessionId, accountId, String(killAt)], { stdio: ['ignore', 'ignore', 'inherit'] });
  const [, signal] = await once(child, 'exit');
  return signal as string | null;
}

// The switch's three writes: both token sets into the account store, the target into auth.json,
// the target's entry emptied. Killed in place of each (and after the last), the next start
// repairs: no copy of the active account is left in the store, and no refresh spends its token.
for (const killAt of [1, 2, 3, 4]) {
  test(`4: a switch killed ${killAt <= 3 ? `at its write ${killAt} of 3` : 'after its last write'} leaves a state the next start repairs`, async (t) => {
    const { issuer, home } = await setup(t, 3);
    await seedAccounts(home.path, issuer, 'user0@example.com', ['user1@example.com', 'user2@example.com']);
    const signal = await switchKilledAt(home.path, issuer, 'user1@example.com', killAt);
    assert.equal(signal, killAt <= 3 ? 'SIGKILL' : null);

    // Every inactive session is due at once: the first pass (a second after the start) refreshes them.
    const client = server(t, home, issuer, ['-c', 'account_sessions_refresh_after_secs=0']);
    await client.initialize();
    await logged(client, /refreshed inactive account sessions|could not be refreshed/);
    const active = await activeEmailOf(home.path);
    const activeSession = sessionIdOf(userOf(issuer, active!).userId);
    const vault = JSON.parse(await readFile(storePath(home.path), 'utf8'));
    assert.deepEqual(vault.sessions.filter((s: { sessionId: string; record: unknown }) => s.sessionId === activeSession && s.record), [], 'no copy of the active account in the store');
    const status = await client.call('getAuthStatus', { includeToken: true, refreshToken: true });
    assert.equal(status.authError, undefined, JSON.stringify(status.authError));
    assert.equal(issuer.reuseAnswers, 0, 'no refresh token was spent twice');
    assert.deepEqual(await lostAccounts(home.path, issuer), []);
    const listed = await client.call('accountSession/list', {});
    assert.equal(listed.sessions.length, 3, 'all three accounts are offered');
  });
}

test('3c: the background pass keeps rotated tokens the keyring refuses to store, and writes them at shutdown', async (t) => {
  const { issuer, home } = await setup(t, 2);
  const keyringDir = await mkdtemp(join(tmpdir(), 'fake-keyring-'));
  const env = { CODEX_AUTH_MCP_LOG: 'debug', ...fakeKeyringEnv('memory', keyringDir) };
  const activeEntry = entryFile(keyringDir, KEYRING_SERVICE, keyringAccount(home.path));
  const storeEntry = entryFile(keyringDir, KEYRING_SERVICE, `${keyringAccount(home.path)}|sessions`);
  await writeFile(activeEntry, JSON.stringify(await issuer.record('user0@example.com')));
  await writeFile(storeEntry, JSON.stringify(await accountStoreHolding(issuer, ['user1@example.com'])));
  await writeFile(join(keyringDir, 'refuse-writes'), ''); // a collection locked after it was read
  const client = startServer(t, { codexHome: home.path, args: serverArgs(issuer, ['-c', 'cli_auth_credentials_store=keyring', '-c', 'account_sessions_refresh_after_secs=0']), env });
  // After the server's hooks, so it runs once the server and its keyring helpers are gone.
  t.after(() => rm(keyringDir, { recursive: true, force: true, maxRetries: 5 }));
  await client.initialize();
  await issuer.refreshArrived(1);
  await logged(client, /inactive account/);
  assert.doesNotMatch(client.stderr, /"refreshed inactive account sessions"/);
  await rm(join(keyringDir, 'refuse-writes'));
  assert.equal((await client.close()).code, 0);
  const stored = JSON.parse(await readFile(storeEntry, 'utf8'));
  assert.equal(stored.sessions[0].record.tokens.refresh_token, issuer.live('user1@example.com'), 'the live token is in the keyring entry');
  assert.equal(issuer.reuseAnswers, 0);
});
