/**
 * Issue 11, item 4: a refresh whose write fails keeps the rotated tokens. CODEX_HOME is a small
 * tmpfs that the test fills to the last byte, so writing auth.json fails with ENOSPC after the
 * issuer has rotated. Before the fix the new tokens were dropped (the failure reported as a
 * transient `refresh_unavailable`), and the next refresh presented the spent token:
 * `refresh_token_reused`, with the still-valid access token withheld.
 *
 * Mounting needs root, which the CI machines and this project's dev machines run as; without it
 * the test fails (it does not skip).
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { RotatingTokens, startFakeIssuer } from '../dev/fakes/fake-issuer.js';
import { chatgptAuthRecord } from '../dev/jwt.js';
import { eventually } from './support/eventually.js';
import { fillUp } from './support/small-disk.js';
import { startServer } from './support/spawn-server.js';

const claims = { email: 'user@example.com', planType: 'plus', accountId: 'acct-1' };

/** A 256 KiB tmpfs, unmounted and removed when the test ends. */
function smallFilesystem(t: { after(fn: () => unknown): void }): string {
  const path = mkdtempSync(join(tmpdir(), 'codex-auth-mcp-tmpfs-'));
  execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=256k,mode=0700', 'tmpfs', path]);
  t.after(() => {
    execFileSync('umount', ['-l', path]);
    rmSync(path, { recursive: true, force: true });
  });
  return path;
}

test('rotated tokens that cannot be written (ENOSPC) are served from memory, never refreshed over, and written once there is room', async (t) => {
  // Two hours for the new access token, one for the stored: the two JWTs differ.
  const rotating = new RotatingTokens('rt-test-1', claims, 7200);
  const issuer = await startFakeIssuer({ onRefresh: (_n, body) => rotating.reply(body) });
  t.after(() => issuer.close());
  const home = smallFilesystem(t);
  const authFile = join(home, 'auth.json');
  const record = await chatgptAuthRecord({ ...claims, exp: Math.floor(Date.now() / 1000) + 3600 });
  writeFileSync(authFile, JSON.stringify(record, null, 2), { mode: 0o600 });
  const before = readFileSync(authFile, 'utf8');

  const client = startServer(t, { codexHome: home, args: ['-c', `auth_issuer=${issuer.url}`] });
  assert.equal((await client.call('getAuthStatus', {})).authMethod, 'chatgpt');
  fillUp(join(home, 'filler'));

  const refreshed = await client.call('getAuthStatus', { includeToken: true, refreshToken: true });
  assert.equal(rotating.rotations, 1, 'the issuer rotated');
  assert.equal(refreshed.authError?.code, 'persist_failed');
  assert.match(refreshed.authError.message, /ENOSPC/);
  assert.ok(refreshed.authToken, 'a token is served');
  assert.notEqual(refreshed.authToken, record.tokens.access_token, 'the new access token, not the stored one');
  assert.equal(readFileSync(authFile, 'utf8'), before, 'auth.json is untouched');
  assert.deepEqual(readdirSync(home).filter((name) => name.startsWith('.auth-')), [], 'no temp file is left behind');

  // Asked again, it does not spend the stale refresh token: it keeps serving the live tokens.
  const again = await client.call('getAuthStatus', { includeToken: true, refreshToken: true });
  assert.equal(again.authToken, refreshed.authToken);
  assert.equal(again.authError?.code, 'persist_failed');
  assert.equal(issuer.refreshCalls().length, 1, 'no second request to the issuer');
  assert.equal(rotating.reuseErrors, 0);

  // Room again: the retry writes them without being asked.
  rmSync(join(home, 'filler'));
  await eventually(() => assert.equal(JSON.parse(readFileSync(authFile, 'utf8')).tokens.refresh_token, 'rt-rotated-1'), 15_000, 100);
  const settled = await eventually(async () => {
    const status = await client.call('getAuthStatus', { includeToken: true });
    assert.equal(status.authError, undefined);
    return status;
  });
  assert.equal(settled.authToken, refreshed.authToken);
  assert.equal(issuer.refreshCalls().length, 1);
});
