/**
 * Several accounts against the built server and CLI: signing in to a second account keeps the
 * first, listing (never a token), switching there and back with rotations in between, a revoked
 * session, a workspace switch, two processes switching at once, removing. Sign-ins go through the
 * embedded issuer, the browser's part played by plain HTTP.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, readdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { KEYRING_SERVICE, keyringAccount } from '../src/auth/store/keyring-entry.js';
import { entryFile } from './support/fake-keyring.js';
import { startEmbeddedIssuer, type EmbeddedIssuer, type EmbeddedIssuerOptions } from '../dev/issuer/embedded-issuer.js';
import { signInAtIssuer } from '../dev/issuer/scripted-sign-in.js';
import type { RpcClient } from '../dev/rpc-client.js';
import { CLIENT_ID } from '../src/protocol/login.js';
import { AccountSessionsResponseSchema } from '../src/protocol/account-wire.js';
import { eventually } from './support/eventually.js';
import { serverEntry } from './support/paths.js';
import { startServer } from './support/spawn-server.js';
import { tempHome, type TempHome } from './support/temp-home.js';
import { fakeKeyringEnv } from './support/fake-keyring-env.js';

type TestContext = { after(fn: () => unknown): void };

interface ServerExtras {
  readonly args?: string[];
  readonly env?: Record<string, string>;
}

async function setup(t: TestContext, issuerOptions: EmbeddedIssuerOptions = {}, extras: ServerExtras = {}) {
  const issuer = await startEmbeddedIssuer(issuerOptions);
  t.after(() => issuer.close());
  const home = await tempHome();
  t.after(() => home.remove());
  const client = server(t, home, issuer, extras);
  await client.initialize();
  return { issuer, home, client };
}

const argsFor = (issuer: EmbeddedIssuer) => ['-c', `auth_issuer=${issuer.url}`, '-c', 'login_callback_port=0'];

function server(t: TestContext, home: TempHome, issuer: EmbeddedIssuer, extras: ServerExtras = {}): RpcClient {
  return startServer(t, { codexHome: home.path, args: [...argsFor(issuer), ...(extras.args ?? [])], env: { CODEX_AUTH_MCP_LOG: 'debug', ...extras.env } });
}

/** The CLI to its end; never rejects (the exit code is part of the answer). */
async function cli(home: TempHome, issuer: EmbeddedIssuer, args: string[]) {
  const child = spawn(process.execPath, [serverEntry, ...args, ...argsFor(issuer)], { env: { ...process.env, CODEX_HOME: home.path, OPENAI_API_KEY: '' } });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk) => (stdout += chunk));
  child.stderr.on('data', (chunk) => (stderr += chunk));
  child.stdin.end();
  const [code] = await once(child, 'exit');
  return { code: code as number, stdout, stderr };
}

/** A notification of `method` that arrives after everything seen so far. */
function nextNotification(client: RpcClient, method: string) {
  const mark = client.messages.length;
  return client.waitFor((m) => m.method === method && m.id === undefined && client.messages.indexOf(m) >= mark, `notification ${method}`);
}

/** A browser sign-in as `email`, to its completion. */
async function signIn(client: RpcClient, email: string, start: () => Promise<{ loginId: string; authUrl: string }> = () => client.call('loginChatGpt', {})) {
  const { loginId, authUrl } = await start();
  const completed = client.waitFor((m) => m.method === 'codex/event/login_chat_gpt_complete' && m.params?.loginId === loginId, `sign-in of ${email}`);
  await fetch(await signInAtIssuer(authUrl, email), { redirect: 'manual' });
  const { params } = await completed;
  assert.equal(params.success, true, `sign-in of ${email}: ${params.error}`);
}

const readJson = async (path: string) => JSON.parse(await readFile(path, 'utf8'));
const vaultPath = (home: TempHome) => join(home.path, 'codex-auth-mcp-accounts.json');
const activeEmail = async (home: TempHome) => jwtEmail((await readJson(home.authFile)).tokens.id_token);
const jwtEmail = (jwt: string) => JSON.parse(Buffer.from(jwt.split('.')[1]!, 'base64url').toString()).email as string;

/** Every secret held on disk for this home: the three tokens of each record, and its API key. */
async function secretsOf(home: TempHome): Promise<string[]> {
  const records = [await readJson(home.authFile).catch(() => undefined), ...((await readJson(vaultPath(home)).catch(() => ({ sessions: [] }))).sessions as { record: any }[]).map((s) => s.record)];
  return records.filter(Boolean).flatMap((r) => [r.tokens?.id_token, r.tokens?.access_token, r.tokens?.refresh_token, r.OPENAI_API_KEY]).filter((s): s is string => typeof s === 'string' && s.length > 0);
}

/** The refresh token the vault holds for `email`. */
async function vaultRefreshToken(home: TempHome, email: string): Promise<string> {
  const vault = await readJson(vaultPath(home));
  const session = vault.sessions.find((s: any) => s.email === email && s.record);
  assert.ok(session, `the vault holds ${email}`);
  return session.record.tokens.refresh_token;
}

test('a second sign-in keeps the first account; the list names both, the active first, and never a secret', async (t) => {
  const { home, client, issuer } = await setup(t);
  await signIn(client, 'demo@example.com');
  await signIn(client, 'pro@example.com');
  assert.equal(await activeEmail(home), 'pro@example.com', 'auth.json holds the newest sign-in, as for Codex');

  const response = await client.request('accountSession/list', {});
  const list = AccountSessionsResponseSchema.parse(response.result);
  assert.deepEqual(list.sessions.map((s) => [s.email, s.planType, s.isActive]), [['pro@example.com', 'pro', true], ['demo@example.com', 'plus', false]]);
  assert.equal(list.activeSessionId, list.sessions[0]!.sessionId);
  assert.notEqual(list.sessions[0]!.sessionId, list.sessions[1]!.sessionId);
  assert.deepEqual(list.sessions[1]!.workspaces, [{ accountId: 'acct-demo-0001', name: null, imageUrl: null, kind: 'personal' }]);
  assert.ok(list.sessions.every((s) => s.lastUsedAt > 1_700_000_000 && s.lastUsedAt < Date.now() / 1000 + 5), 'lastUsedAt in epoch seconds');

  // The inactive tokens are stored beside auth.json, private to the user.
  assert.equal((await stat(vaultPath(home))).mode & 0o777, 0o600);
  assert.match(await vaultRefreshToken(home, 'demo@example.com'), /.+/);

  const tool = await client.call('tools/call', { name: 'list_accounts', arguments: {} });
  assert.match(tool.content[0].text, /\* pro@example\.com — plan pro, active/);
  assert.match(tool.content[0].text, /- demo@example\.com — plan plus, signed in/);
  const listed = await cli(home, issuer, ['accounts', 'list', '--json']);
  assert.equal(listed.code, 0, listed.stderr);
  assert.deepEqual(JSON.parse(listed.stdout), list);
  const human = await cli(home, issuer, ['accounts', 'list']);

  const secrets = await secretsOf(home);
  assert.ok(secrets.length >= 6, 'both accounts hold tokens');
  for (const text of [JSON.stringify(response), JSON.stringify(tool), listed.stdout, human.stdout, client.stderr]) {
    for (const secret of secrets) assert.ok(!text.includes(secret), 'no token or key in a listing or a log');
  }
});

test('our old account-sessions.json is adopted once as codex-auth-mcp-accounts.json, no session lost; a file of that old name in another layout is left alone', async (t) => {
  const { home, client, issuer } = await setup(t);
  await signIn(client, 'demo@example.com');
  await signIn(client, 'pro@example.com');
  const before = await readFile(vaultPath(home), 'utf8');
  client.kill();
  await client.exited;
  // As an earlier version of this server left it.
  await rename(vaultPath(home), join(home.path, 'account-sessions.json'));

  const later = server(t, home, issuer);
  await later.initialize();
  const { sessions } = await later.call('accountSession/list', {});
  assert.deepEqual(sessions.map((s: any) => [s.email, s.isActive]), [['pro@example.com', true], ['demo@example.com', false]], 'both sessions, read from the old file');
  assert.equal(await readFile(vaultPath(home), 'utf8'), before, 'the same bytes under the new name');
  assert.equal((await stat(vaultPath(home))).mode & 0o777, 0o600);
  assert.deepEqual((await readdir(home.path)).filter((name) => name === 'account-sessions.json'), [], 'the old name is gone');
  // Switching to the adopted inactive session works: its tokens came through.
  const demo = sessions.find((s: any) => s.email === 'demo@example.com');
  await later.call('accountSession/switch', { sessionId: demo.sessionId, accountId: demo.selectedWorkspaceAccountId });
  assert.equal(await activeEmail(home), 'demo@example.com');

  // Another program's multi-login store by the old name (another layout) is never read, moved or removed.
  const foreign = JSON.stringify({ accounts: [{ id: 'x', tokens: {} }] });
  await writeFile(join(home.path, 'account-sessions.json'), foreign);
  const again = await later.call('accountSession/list', {});
  assert.equal(again.sessions.length, 2);
  assert.equal(await readFile(join(home.path, 'account-sessions.json'), 'utf8'), foreign);
});

test('switch and back, tokens rotated in between: nothing is lost, each switch is announced here and by a sibling, and the CLI sees it', async (t) => {
  const { home, client, issuer } = await setup(t);
  await signIn(client, 'demo@example.com');
  await signIn(client, 'pro@example.com');
  const sibling = server(t, home, issuer);
  await sibling.initialize();
  await sibling.call('account/read', {}); // subscribes it to account/updated
  const { sessions } = await client.call('accountSession/list', {});
  const [pro, demo] = sessions;

  // pro's tokens rotate while it is active.
  await client.call('getAuthStatus', { includeToken: true, refreshToken: true });
  const proRotated = (await readJson(home.authFile)).tokens.refresh_token;

  const announced = nextNotification(client, 'account/updated');
  const siblingHeard = nextNotification(sibling, 'codex/event/auth_status_change');
  const siblingUpdated = nextNotification(sibling, 'account/updated');
  const response = await client.request('accountSession/switch', { sessionId: demo.sessionId, accountId: demo.selectedWorkspaceAccountId });
  const switched = response.result;
  assert.equal(switched.activeSessionId, demo.sessionId);
  assert.ok(client.messages.indexOf(response) < client.messages.indexOf(await announced), 'the answer first, then the announcement');
  assert.equal(await activeEmail(home), 'demo@example.com');
  assert.equal(await vaultRefreshToken(home, 'pro@example.com'), proRotated, 'the rotated refresh token of pro went back to its session');
  assert.deepEqual((await announced).params, { authMode: 'chatgpt', planType: 'plus', reason: null });
  assert.deepEqual((await siblingHeard).params, { authMethod: 'chatgpt' });
  assert.equal((await siblingUpdated).params.planType, 'plus');
  const seen = await cli(home, issuer, ['accounts', 'list', '--json']);
  assert.equal(JSON.parse(seen.stdout).activeSessionId, demo.sessionId, 'the CLI in another process sees the switch');
  assert.match((await cli(home, issuer, ['status'])).stdout, /demo@example\.com/);

  // demo's tokens rotate while it is active; then back to pro.
  await client.call('getAuthStatus', { includeToken: true, refreshToken: true });
  const demoRotated = (await readJson(home.authFile)).tokens.refresh_token;
  const back = await cli(home, issuer, ['accounts', 'switch', 'pro@example.com']);
  assert.equal(back.code, 0, back.stderr);
  assert.match(back.stdout, /Active account: pro@example\.com/);
  assert.equal((await readJson(home.authFile)).tokens.refresh_token, proRotated);
  assert.equal(await vaultRefreshToken(home, 'demo@example.com'), demoRotated);
  // The server saw the CLI's switch and announces it.
  await eventually(async () => assert.equal((await client.call('getAuthStatus', {})).authMethod, 'chatgpt'));
  await eventually(async () => assert.equal((await client.call('account/read', {})).account.email, 'pro@example.com'));

  // Both refresh tokens still work at the issuer: nothing was spent twice or dropped.
  const refreshesBefore = issuer.stats.refreshes;
  const proStatus = await client.call('getAuthStatus', { includeToken: true, refreshToken: true });
  assert.equal(proStatus.authError, undefined);
  await client.call('accountSession/switch', { sessionId: demo.sessionId, accountId: demo.selectedWorkspaceAccountId });
  const demoStatus = await client.call('getAuthStatus', { includeToken: true, refreshToken: true });
  assert.equal(demoStatus.authError, undefined);
  assert.equal(issuer.stats.refreshes, refreshesBefore + 2);
  assert.equal(issuer.stats.refreshReuses, 0);
  assert.equal(pro.isActive, true);
});

test('a session whose refresh token was revoked: an error saying so, or a sign-in with allowBrowserLogin that brings it back', async (t) => {
  // Access tokens shorter than the refresh window: every switch target is due a refresh.
  const { home, client, issuer } = await setup(t, { accessTokenTtlSecs: 120 });
  await signIn(client, 'demo@example.com');
  await signIn(client, 'pro@example.com');
  const { sessions } = await client.call('accountSession/list', {});
  const demo = sessions.find((s: any) => s.email === 'demo@example.com');
  const revoked = await fetch(`${issuer.url}/oauth/revoke`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ token: await vaultRefreshToken(home, 'demo@example.com'), token_type_hint: 'refresh_token', client_id: CLIENT_ID }),
  });
  assert.equal(revoked.status, 200);

  const refused = await client.request('accountSession/switch', { sessionId: demo.sessionId, accountId: demo.selectedWorkspaceAccountId });
  assert.equal(refused.error?.code, -32600);
  assert.match(refused.error!.message, /can no longer be refreshed.*needs a new sign-in.*allowBrowserLogin/);
  assert.equal(await activeEmail(home), 'pro@example.com', 'nothing changed');
  const marked = await client.call('accountSession/list', {});
  assert.equal(marked.sessions.find((s: any) => s.sessionId === demo.sessionId).needsSignIn, true);

  let authUrl = '';
  await signIn(client, 'demo@example.com', async () => {
    const started = await client.call('accountSession/switch', { sessionId: demo.sessionId, accountId: demo.selectedWorkspaceAccountId, allowBrowserLogin: true });
    assert.deepEqual(Object.keys(started).sort(), ['authUrl', 'loginId']);
    authUrl = started.authUrl;
    return started;
  });
  assert.equal(new URL(authUrl).searchParams.get('login_hint'), 'demo@example.com');
  assert.equal(await activeEmail(home), 'demo@example.com');
  const after = await client.call('accountSession/list', {});
  assert.deepEqual(after.sessions.map((s: any) => [s.email, s.isActive, s.needsSignIn ?? false]), [['demo@example.com', true, false], ['pro@example.com', false, false]]);
});

test('a workspace of the same login: switching to it signs in with allowed_workspace_id, and the session lists both', async (t) => {
  const { home, client } = await setup(t);
  await signIn(client, 'team@example.com');
  const [team] = (await client.call('accountSession/list', {})).sessions;
  assert.equal(team.selectedWorkspaceAccountId, 'acct-team-personal');

  const refused = await client.request('accountSession/switch', { sessionId: team.sessionId, accountId: 'acct-team-acme' });
  assert.match(refused.error!.message, /workspace acct-team-acme needs a sign-in of its own/);
  let authUrl = '';
  await signIn(client, 'team@example.com', async () => {
    const started = await client.call('accountSession/switch', { sessionId: team.sessionId, accountId: 'acct-team-acme', allowBrowserLogin: true });
    authUrl = started.authUrl;
    return started;
  });
  assert.equal(new URL(authUrl).searchParams.get('allowed_workspace_id'), 'acct-team-acme');
  assert.equal((await readJson(home.authFile)).tokens.account_id, 'acct-team-acme');
  const { sessions } = await client.call('accountSession/list', {});
  assert.equal(sessions.length, 1, 'one login, not two');
  assert.equal(sessions[0].sessionId, team.sessionId);
  assert.equal(sessions[0].selectedWorkspaceAccountId, 'acct-team-acme');
  assert.equal(sessions[0].planType, 'team');
  assert.deepEqual(sessions[0].workspaces.map((w: any) => [w.accountId, w.kind]), [['acct-team-personal', 'personal'], ['acct-team-acme', 'workspace']]);
});

test('two processes switching at once: one wins, and every account keeps its tokens', async (t) => {
  const { home, client, issuer } = await setup(t);
  for (const email of ['demo@example.com', 'work@example.com', 'pro@example.com']) await signIn(client, email);
  const before = new Set(await secretsOf(home));
  const [toDemo, toWork] = await Promise.all([cli(home, issuer, ['accounts', 'switch', 'demo@example.com']), cli(home, issuer, ['accounts', 'switch', 'work@example.com'])]);
  assert.equal(toDemo.code, 0, toDemo.stderr);
  assert.equal(toWork.code, 0, toWork.stderr);

  const winner = await activeEmail(home);
  assert.ok(['demo@example.com', 'work@example.com'].includes(winner));
  const { sessions, activeSessionId } = await client.call('accountSession/list', {});
  assert.deepEqual(sessions.map((s: any) => s.email).sort(), ['demo@example.com', 'pro@example.com', 'work@example.com']);
  assert.deepEqual(sessions.filter((s: any) => s.isActive).map((s: any) => s.email), [winner]);
  assert.equal(activeSessionId, sessions[0].sessionId);
  assert.deepEqual(new Set(await secretsOf(home)), before, 'the same token sets, each kept exactly once (no refresh was due)');
  const vault = await readJson(vaultPath(home));
  assert.equal(vault.sessions.filter((s: any) => s.record).length, 2, 'the two inactive accounts hold their tokens');
});

test('removing: an inactive account is forgotten; removing the active one signs it out and makes no other active', async (t) => {
  const { home, client, issuer } = await setup(t);
  await signIn(client, 'demo@example.com');
  await signIn(client, 'work@example.com');
  await signIn(client, 'pro@example.com');
  const removed = await cli(home, issuer, ['accounts', 'remove', 'work@example.com']);
  assert.equal(removed.code, 0, removed.stderr);
  assert.deepEqual((await client.call('accountSession/list', {})).sessions.map((s: any) => s.email), ['pro@example.com', 'demo@example.com']);

  const signedOut = nextNotification(client, 'codex/event/auth_status_change');
  const active = await cli(home, issuer, ['accounts', 'remove', 'pro@example.com', '--local']);
  assert.equal(active.code, 0, active.stderr);
  assert.match(active.stdout, /No account is active now/);
  await assert.rejects(stat(home.authFile), { code: 'ENOENT' });
  assert.deepEqual((await signedOut).params, {}, 'the running server announces the sign-out');
  const left = await client.call('accountSession/list', {});
  assert.equal(left.activeSessionId, null);
  assert.deepEqual(left.sessions.map((s: any) => [s.email, s.isActive]), [['demo@example.com', false]]);

  // A plain logout of the active account leaves the others signed in too.
  await client.call('accountSession/switch', { sessionId: left.sessions[0].sessionId, accountId: left.sessions[0].selectedWorkspaceAccountId });
  assert.equal(await activeEmail(home), 'demo@example.com');
  await client.call('logoutChatGpt', { revoke: false });
  assert.deepEqual((await client.call('accountSession/list', {})).sessions, []);
});

test('inactive sessions are refreshed in the background, under the lock, by every server sharing the home, without losing a rotation', async (t) => {
  const { home, client, issuer } = await setup(t);
  await signIn(client, 'demo@example.com');
  await signIn(client, 'pro@example.com');
  const signedIn = await vaultRefreshToken(home, 'demo@example.com');
  const before = issuer.stats.refreshes;
  // Two more servers that count every inactive session as due.
  for (let i = 0; i < 2; i++) {
    const eager = startServer(t, { codexHome: home.path, args: [...argsFor(issuer), '-c', 'account_sessions_refresh_after_secs=0'] });
    await eager.initialize();
  }
  await eventually(() => assert.equal(issuer.stats.refreshes, before + 2, 'one pass per server, one after the other'));
  assert.equal(issuer.stats.refreshReuses, 0, 'no refresh token was spent twice');
  assert.equal(await activeEmail(home), 'pro@example.com', 'the active account is untouched');

  // Both requests were sent under the lock; the switch takes it after their writes.
  const [, demo] = (await client.call('accountSession/list', {})).sessions;
  await client.call('accountSession/switch', { sessionId: demo.sessionId, accountId: demo.selectedWorkspaceAccountId });
  assert.notEqual((await readJson(home.authFile)).tokens.refresh_token, signedIn);
  // The issuer refuses a rotated-away refresh token: this works only with the newest one.
  assert.equal((await client.call('getAuthStatus', { includeToken: true, refreshToken: true })).authError, undefined, 'the newest refresh token was kept');
  assert.equal(issuer.stats.refreshReuses, 0);
});

test('with the keyring, the inactive accounts are one more keyring entry; nothing is written in plain view', async (t) => {
  const keyringDir = await mkdtemp(join(tmpdir(), 'fake-keyring-'));
  const env = fakeKeyringEnv('memory', keyringDir);
  const { home, client } = await setup(t, {}, { args: ['-c', 'cli_auth_credentials_store=keyring'], env });
  // After setup's hooks, so it runs once the server and its keyring helpers (which write here) are gone.
  t.after(() => rm(keyringDir, { recursive: true, force: true, maxRetries: 5 }));
  await signIn(client, 'demo@example.com');
  await signIn(client, 'pro@example.com');
  assert.deepEqual((await readdir(home.path)).filter((name) => name.endsWith('.json')), [], 'neither auth.json nor codex-auth-mcp-accounts.json');
  const entry = entryFile(keyringDir, KEYRING_SERVICE, `${keyringAccount(home.path)}|sessions`);
  const vault = await readJson(entry);
  assert.deepEqual(vault.sessions.filter((s: any) => s.record).map((s: any) => s.email), ['demo@example.com']);

  const [, demo] = (await client.call('accountSession/list', {})).sessions;
  await client.call('accountSession/switch', { sessionId: demo.sessionId, accountId: demo.selectedWorkspaceAccountId });
  const active = await readJson(entryFile(keyringDir, KEYRING_SERVICE, keyringAccount(home.path)));
  assert.equal(jwtEmail(active.tokens.id_token), 'demo@example.com');
  assert.deepEqual((await readJson(entry)).sessions.filter((s: any) => s.record).map((s: any) => s.email), ['pro@example.com']);
});

test('ephemeral storage keeps the inactive accounts in memory only', async (t) => {
  const { home, client } = await setup(t, {}, { args: ['-c', 'cli_auth_credentials_store=ephemeral'] });
  await signIn(client, 'demo@example.com');
  await signIn(client, 'pro@example.com');
  const { sessions } = await client.call('accountSession/list', {});
  assert.deepEqual(sessions.map((s: any) => [s.email, s.isActive]), [['pro@example.com', true], ['demo@example.com', false]]);
  const switched = await client.call('accountSession/switch', { sessionId: sessions[1].sessionId, accountId: sessions[1].selectedWorkspaceAccountId });
  assert.equal(switched.activeSessionId, sessions[1].sessionId);
  assert.equal((await client.call('account/read', {})).account.email, 'demo@example.com');
  assert.deepEqual(await readdir(home.path), [], 'nothing written to CODEX_HOME');
});

test('an API key in force is never overwritten by a switch', async (t) => {
  const { home, client } = await setup(t);
  await signIn(client, 'demo@example.com');
  await signIn(client, 'pro@example.com');
  const [, demo] = (await client.call('accountSession/list', {})).sessions;
  await client.call('loginApiKey', { apiKey: 'sk-kept' });
  const refused = await client.request('accountSession/switch', { sessionId: demo.sessionId, accountId: demo.selectedWorkspaceAccountId });
  assert.equal(refused.error?.code, -32600);
  assert.match(refused.error!.message, /API key.*log out first/);
  assert.equal((await readJson(home.authFile)).OPENAI_API_KEY, 'sk-kept');
  assert.deepEqual((await client.call('accountSession/list', {})).sessions.map((s: any) => s.email), ['demo@example.com'], 'the inactive account is still there');
});

test('an unreadable codex-auth-mcp-accounts.json is an error naming the file, never a crash, and is never emptied', async (t) => {
  const { home, client } = await setup(t);
  await signIn(client, 'demo@example.com');
  await writeFile(vaultPath(home), '{"version":1,"sessions":[{"sessionId":', { mode: 0o600 });
  const listed = await client.request('accountSession/list', {});
  assert.equal(listed.error?.code, -32603);
  assert.ok(listed.error!.message.includes(vaultPath(home)), listed.error!.message);
  // Issue 26 item 11: a sign-in whose code was exchanged is not thrown away for it. The file is
  // set aside as it was (for repair), a new one keeps demo, pro is signed in.
  const { loginId, authUrl } = await client.call('loginChatGpt', {});
  const ended = client.waitFor((m) => m.method === 'codex/event/login_chat_gpt_complete' && m.params?.loginId === loginId);
  await fetch(await signInAtIssuer(authUrl, 'pro@example.com'), { redirect: 'manual' });
  const { params } = await ended;
  assert.equal(params.success, true, params.error);
  assert.equal(await activeEmail(home), 'pro@example.com');
  const aside = (await readdir(home.path)).filter((name) => name.startsWith('codex-auth-mcp-accounts.json.unreadable-'));
  assert.equal(aside.length, 1);
  assert.equal(await readFile(join(home.path, aside[0]!), 'utf8'), '{"version":1,"sessions":[{"sessionId":');
  assert.match(await vaultRefreshToken(home, 'demo@example.com'), /.+/);
});
