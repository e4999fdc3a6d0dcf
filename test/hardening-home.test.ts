/**
 * Issue 11, items 3 and 8 (temp files): a CODEX_HOME others can write, symlinks, a crash's temp
 * files. A second user is played by uid 65534 (`setpriv`), which needs root: the CI machines and
 * this project's dev machines run as root; elsewhere these tests fail rather than skip.
 *
 * Before the fix, with the home at 0777 and a symlink planted by the other user, the live tokens
 * were written into that user's file; a crash's `.auth-XXXXXX` files were never removed.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { chmodSync, chownSync, lchownSync, lstatSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, symlinkSync, utimesSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { RotatingTokens, startFakeIssuer } from '../dev/fakes/fake-issuer.js';
import { chatgptAuthRecord } from '../dev/jwt.js';
import { eventually } from './support/eventually.js';
import { startServer } from './support/spawn-server.js';
import { tempHome } from './support/temp-home.js';

const OTHER_UID = 65534;
const claims = { email: 'user@example.com', planType: 'plus', accountId: 'acct-1' };

/** Runs a command as the other user. */
const asOtherUser = (command: string, ...args: string[]) =>
  execFileSync('setpriv', [`--reuid=${OTHER_UID}`, `--regid=${OTHER_UID}`, '--clear-groups', command, ...args]);

/** A folder of the other user's, removed at the end. */
function otherUsersFolder(t: { after(fn: () => unknown): void }): string {
  const path = mkdtempSync(join(tmpdir(), 'codex-auth-mcp-other-'));
  chownSync(path, OTHER_UID, OTHER_UID);
  t.after(() => rmSync(path, { recursive: true, force: true }));
  return path;
}

test('a CODEX_HOME others can write (0777) gets no credentials: the error names the folder, its mode and the fix, and the other user\'s symlink receives nothing', async (t) => {
  const home = await tempHome();
  t.after(() => home.remove());
  chmodSync(home.path, 0o777);
  const loot = join(otherUsersFolder(t), 'loot');
  asOtherUser('touch', loot);
  asOtherUser('ln', '-s', loot, home.authFile);
  const client = startServer(t, { codexHome: home.path });
  const answer = await client.request('loginApiKey', { apiKey: 'sk-for-the-taking' });
  assert.equal(answer.error?.code, -32603);
  assert.match(answer.error!.message, new RegExp(`refusing to store the credentials in ${home.path}: other users can write to it \\(mode 0777\\); run: chmod go-w ${home.path}`));
  assert.equal(readFileSync(loot, 'utf8'), '', 'nothing reached the other user\'s file');
  assert.doesNotMatch(client.stderr, /sk-for-the-taking/);
});

test('a CODEX_HOME that belongs to another user is refused, naming the owner', async (t) => {
  const home = await tempHome();
  t.after(() => home.remove());
  chownSync(home.path, OTHER_UID, OTHER_UID);
  const client = startServer(t, { codexHome: home.path });
  const answer = await client.request('loginApiKey', { apiKey: 'sk-x' });
  assert.match(answer.error?.message ?? '', /refusing to store the credentials in .*: it belongs to another user \(uid 65534, you are uid 0\)/);
  assert.equal(existsSync(home.authFile), false);
});

test('a refresh in a home that turned writable by others is not sent (nothing to lose, nothing written there); once private again it is', async (t) => {
  // Issue 26 item 10: the credentials there are not served either (they could have been swapped).
  const rotating = new RotatingTokens('rt-test-1', claims, 7200);
  const issuer = await startFakeIssuer({ onRefresh: (_n, body) => rotating.reply(body) });
  t.after(() => issuer.close());
  const home = await tempHome();
  t.after(() => home.remove());
  const record = await chatgptAuthRecord({ ...claims, exp: Math.floor(Date.now() / 1000) + 3600 });
  await home.writeAuth(record);
  const client = startServer(t, { codexHome: home.path, args: ['-c', `auth_issuer=${issuer.url}`] });
  assert.equal((await client.call('getAuthStatus', {})).authMethod, 'chatgpt');
  chmodSync(home.path, 0o770);
  const refused = await client.call('getAuthStatus', { includeToken: true, refreshToken: true });
  assert.equal(refused.authError?.code, 'codex_home_unsafe');
  assert.match(refused.authError.message, /other users can write to it \(mode 0770\)/);
  assert.equal(refused.authToken, undefined, 'what the home holds is not served');
  assert.equal(rotating.rotations, 0, 'the refresh token was not spent');
  chmodSync(home.path, 0o700);
  // The chmod of CODEX_HOME is an event in it: the credentials are read again.
  await eventually(async () => assert.equal((await client.call('getAuthStatus', {})).authMethod, 'chatgpt'));
  const refreshed = await client.call('getAuthStatus', { includeToken: true, refreshToken: true });
  assert.equal(refreshed.authError, undefined);
  assert.equal(JSON.parse(readFileSync(home.authFile, 'utf8')).tokens.refresh_token, 'rt-rotated-1');
});

test('a symlinked auth.json of the person\'s own (dotfiles) is kept: the file it leads to is replaced, 0600, as Codex 0.171 does', async (t) => {
  const home = await tempHome();
  t.after(() => home.remove());
  const dotfiles = mkdtempSync(join(tmpdir(), 'codex-auth-mcp-dotfiles-'));
  t.after(() => rmSync(dotfiles, { recursive: true, force: true }));
  const target = join(dotfiles, 'auth.json');
  writeFileSync(target, '{}', { mode: 0o644 });
  symlinkSync(target, home.authFile);
  const client = startServer(t, { codexHome: home.path });
  assert.deepEqual((await client.request('loginApiKey', { apiKey: 'sk-dotfiles' })).result, {});
  assert.ok(lstatSync(home.authFile).isSymbolicLink(), 'the link is still a link');
  assert.equal(JSON.parse(readFileSync(target, 'utf8')).OPENAI_API_KEY, 'sk-dotfiles');
  assert.equal(statSync(target).mode & 0o777, 0o600);
  assert.equal((await client.call('getAuthStatus', {})).authMethod, 'apikey');
});

test('a symlinked auth.json made by another user is refused, and its target gets nothing', async (t) => {
  const home = await tempHome();
  t.after(() => home.remove());
  const loot = join(otherUsersFolder(t), 'loot');
  asOtherUser('touch', loot);
  symlinkSync(loot, home.authFile);
  lchownSync(home.authFile, OTHER_UID, OTHER_UID);
  const client = startServer(t, { codexHome: home.path });
  const answer = await client.request('loginApiKey', { apiKey: 'sk-x' });
  assert.match(answer.error?.message ?? '', /refusing to write the credentials through .*auth\.json: it is a symlink made by another user \(uid 65534\)/);
  assert.equal(readFileSync(loot, 'utf8'), '');
});

test('temp files a crash left (older than a minute) are removed under the lock; a fresh one (a write in progress) is not', async (t) => {
  const home = await tempHome();
  t.after(() => home.remove());
  mkdirSync(home.path, { recursive: true });
  const stale = join(home.path, '.auth-Stale1');
  const fresh = join(home.path, '.auth-Fresh1');
  writeFileSync(stale, '{"tokens":"left by a crash"}', { mode: 0o600 });
  writeFileSync(fresh, '{"tokens":"being written"}', { mode: 0o600 });
  const twoMinutesAgo = new Date(Date.now() - 120_000);
  utimesSync(stale, twoMinutesAgo, twoMinutesAgo);
  const client = startServer(t, { codexHome: home.path });
  assert.deepEqual((await client.request('loginApiKey', { apiKey: 'sk-x' })).result, {});
  assert.equal(existsSync(stale), false, 'the crash\'s leftover is gone');
  assert.equal(existsSync(fresh), true, 'a write in progress is left alone');
});
