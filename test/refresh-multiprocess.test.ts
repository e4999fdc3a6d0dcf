/**
 * Five servers share one CODEX_HOME, and each is made to refresh again and again against an
 * issuer that rotates refresh tokens and rejects any reuse. Not one reuse may happen, and all
 * five must end with the same, latest tokens.
 */
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { test } from 'node:test';
import { eventually } from './support/eventually.js';
import { startFakeIssuer, RotatingTokens } from '../dev/fakes/fake-issuer.js';
import type { RpcClient } from '../dev/rpc-client.js';
import { spawnServer } from './support/spawn-server.js';
import { tempHome } from './support/temp-home.js';
import { chatgptAuthRecord } from '../dev/jwt.js';

const claims = { email: 'user@example.com', planType: 'plus', accountId: 'acct-1' };

test('5 processes refreshing repeatedly: zero reuse errors, same latest tokens everywhere', async (t) => {
  const rotating = new RotatingTokens('rt-test-1', claims);
  // A real issuer takes a while to answer; without the lock, siblings' refreshes overlap in that time.
  const issuer = await startFakeIssuer({
    onRefresh: async (_n, body) => {
      const reply = await rotating.reply(body);
      return typeof reply === 'string' ? reply : { ...reply, delayMs: 40 };
    },
  });
  t.after(() => issuer.close());
  const home = await tempHome();
  t.after(() => home.remove());
  await home.writeAuth(await chatgptAuthRecord(claims));
  const clients: RpcClient[] = [];
  for (let i = 0; i < 5; i++) {
    const client = spawnServer({ codexHome: home.path, args: ['-c', `auth_issuer=${issuer.url}`] });
    t.after(async () => {
      client.kill();
      await client.exited;
    });
    clients.push(client);
  }
  const ROUNDS = 8;
  await Promise.all(
    clients.map(async (client) => {
      for (let round = 0; round < ROUNDS; round++) {
        // Three callers at once in each process, five processes at once.
        const statuses = await Promise.all([1, 2, 3].map(() => client.call('getAuthStatus', { includeToken: true, refreshToken: true })));
        for (const status of statuses) assert.equal(status.authError, undefined, JSON.stringify(status.authError));
      }
    }),
  );
  assert.equal(rotating.reuseErrors, 0, 'no refresh token was ever presented twice');
  assert.equal(issuer.refreshCalls().length, rotating.rotations, 'every request carried the current refresh token');
  assert.ok(rotating.rotations >= ROUNDS, `${rotating.rotations} rotations`);
  const stored = JSON.parse(await readFile(home.authFile, 'utf8'));
  assert.equal(stored.tokens.refresh_token, rotating.current, 'the file holds the latest refresh token');
  // Every process converges on the stored access token (each notices the file change).
  await eventually(async () => {
    const tokens = await Promise.all(clients.map((c) => c.call('getAuthStatus', { includeToken: true }).then((s) => s.authToken)));
    assert.deepEqual(new Set(tokens), new Set([stored.tokens.access_token]));
  });
});
