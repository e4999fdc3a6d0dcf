/**
 * The commit point of a browser sign-in, with the login run in this process: a cancel that comes
 * before the tokens are written wins (nothing is written), one that comes once the write has
 * begun waits for it, and the ending reported always matches what is on disk.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { request as httpRequest } from 'node:http';
import { test } from 'node:test';
import { withAuthLock } from '../src/auth/store/locks.js';
import { BrowserLogin } from '../workers/login/browser-login.js';
import { CLIENT_ID, type LoginWorkerEvent } from '../src/protocol/login.js';
import { startFakeIssuer, type FakeIssuer } from '../dev/fakes/fake-issuer.js';
import { filesBesideLocks, tempHome, type TempHome } from './support/temp-home.js';
import { testJwt } from '../dev/jwt.js';

async function tokenIssuer(t: { after(fn: () => unknown): void }): Promise<FakeIssuer> {
  const claims = { email: 'user@example.com', planType: 'plus', accountId: 'acct-new' };
  const issuer = await startFakeIssuer({
    onOther: async (call) => {
      if (call.body['grant_type'] === 'authorization_code') {
        return { status: 200, json: { id_token: await testJwt(claims), access_token: await testJwt(claims), refresh_token: 'rt-new' } };
      }
      return { status: 200, json: { access_token: 'sk-exchanged' } };
    },
  });
  t.after(() => issuer.close());
  return issuer;
}

async function startLogin(issuer: FakeIssuer, home: TempHome) {
  const events: LoginWorkerEvent[] = [];
  let persisting!: () => void;
  const persistingSeen = new Promise<void>((resolve) => (persisting = resolve));
  const login = new BrowserLogin(
    { loginId: randomUUID(), issuer: issuer.url, clientId: CLIENT_ID, port: 0, timeoutMs: 60_000, store: { codexHome: home.path, mode: 'file' } },
    async (event) => {
      events.push(event);
      if (event.type === 'persisting') persisting();
    },
  );
  const started = await login.start();
  assert.ok(started.ok);
  const state = new URL(started.authUrl).searchParams.get('state')!;
  /** The browser's callback; resolves with the status, or 'closed' when the listener shut first. */
  const callback = () =>
    new Promise<number | 'closed'>((resolve) => {
      const req = httpRequest(
        { host: '127.0.0.1', port: started.port, path: `/auth/callback?code=c0de&state=${state}`, headers: { host: `localhost:${started.port}` } },
        (res) => {
          res.resume();
          res.on('end', () => resolve(res.statusCode!));
          res.on('error', () => resolve('closed'));
        },
      );
      req.on('error', () => resolve('closed'));
      req.end();
    });
  return { login, events, persistingSeen, callback };
}

const endings = (events: LoginWorkerEvent[]) => events.filter((e) => e.type === 'ended');

test('a cancel while the tokens wait for the auth.json lock wins: nothing is written, one cancelled ending', { timeout: 30_000 }, async (t) => {
  const issuer = await tokenIssuer(t);
  const home = await tempHome();
  t.after(() => home.remove());
  const { login, events, persistingSeen, callback } = await startLogin(issuer, home);

  // Another writer (a refresh in a sibling process, say) holds the lock.
  let acquired!: () => void;
  let releaseLock!: () => void;
  const lockAcquired = new Promise<void>((resolve) => (acquired = resolve));
  const holding = withAuthLock(home.path, () => {
    acquired();
    return new Promise<void>((resolve) => (releaseLock = resolve));
  });
  await lockAcquired;

  const response = callback();
  await persistingSeen; // exchanged, about to wait for the lock
  await login.cancel('cancelled');
  releaseLock();
  await holding;
  await login.drained();
  const status = await response;
  assert.ok(status === 200 || status === 'closed', `callback answered ${status}`);

  assert.deepEqual(endings(events), [{ type: 'ended', loginId: login.loginId, success: false, errorCode: 'cancelled', error: 'Login server error: Login was not completed' }]);
  assert.deepEqual(await filesBesideLocks(home.path), [], 'no auth.json, no temp file left behind');
});

test('whenever a cancel lands, the ending reported matches what is on disk', { timeout: 120_000 }, async (t) => {
  const issuer = await tokenIssuer(t);
  const seen = new Set<string>();
  // Cancel at a different point each round, from "as soon as persisting is announced" onwards,
  // so rounds land before, during and after the write.
  for (let round = 0; round < 24; round++) {
    const home = await tempHome();
    t.after(() => home.remove());
    const { login, events, persistingSeen, callback } = await startLogin(issuer, home);
    const response = callback();
    await persistingSeen;
    for (let tick = 0; tick < round; tick++) await new Promise((resolve) => setImmediate(resolve));
    await login.cancel('cancelled');
    await login.drained();
    await response;

    const ended = endings(events);
    assert.equal(ended.length, 1, `round ${round}: exactly one ending`);
    const files = await filesBesideLocks(home.path);
    if (ended[0]!.success) {
      seen.add('success');
      assert.deepEqual(files, ['auth.json'], `round ${round}`);
      const stored = JSON.parse(await readFile(home.authFile, 'utf8'));
      assert.equal(stored.tokens.refresh_token, 'rt-new');
    } else {
      seen.add('cancelled');
      assert.equal(ended[0]!.errorCode, 'cancelled');
      assert.deepEqual(files, [], `round ${round}: reported cancelled, so nothing may be stored`);
    }
  }
  t.diagnostic(`endings seen: ${[...seen].join(', ')}`);
});
