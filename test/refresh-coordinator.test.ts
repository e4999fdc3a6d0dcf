/**
 * The main thread's refresh coordinator against a fake token service and a fake auth state, on
 * a fake clock: when background refreshes start (the window boundaries), single-flight, failure
 * memory, Retry-After, logout's precedence and shutdown.
 */
import assert from 'node:assert/strict';
import { test, type TestContext } from 'node:test';
import { parseStoredAuth } from '../src/auth/store/record.js';
import { RefreshControl } from '../src/protocol/refresh-control.js';
import { RefreshCoordinator, MIN_BACKGROUND_INTERVAL_MS, TRANSIENT_RETRY_MS, type RefreshAuthPort } from '../src/auth/refresh-coordinator.js';
import { resolveSnapshot } from '../workers/token-service/resolve-snapshot.js';
import type { RefreshTask } from '../src/protocol/token-service-tasks.js';
import type { Logger } from '../src/log.js';
import type { AuthSnapshot, RefreshOutcome } from '../src/protocol/snapshot.js';
import { testJwt } from '../dev/jwt.js';

const MINUTE = 60_000;
const DAY = 24 * 60 * MINUTE;
const claims = { email: 'user@example.com', planType: 'plus', accountId: 'acct-1' };
const silent = () => undefined;
const log: Logger = { trace: silent, debug: silent, info: silent, warn: silent, error: silent, child: () => log } as unknown as Logger;
/** JWT `exp` has whole seconds: start the fake clock on one, so the window's edges are exact. */
const wholeSecond = () => Math.ceil(Date.now() / 1000) * 1000;

/** A snapshot as the token service would build it from a stored record. */
async function snapshotOf(fingerprint: string, options: { expiresAt?: number; lastRefresh?: number }): Promise<AuthSnapshot> {
  const access = options.expiresAt === undefined ? 'opaque-access-token' : await testJwt({ ...claims, exp: Math.floor(options.expiresAt / 1000) });
  const record = {
    OPENAI_API_KEY: null,
    tokens: { id_token: await testJwt(claims), access_token: access, refresh_token: `rt-${fingerprint}`, account_id: 'acct-1' },
    last_refresh: new Date(options.lastRefresh ?? Date.now()).toISOString(),
  };
  return resolveSnapshot(parseStoredAuth(JSON.stringify(record), fingerprint), { storage: 'file' });
}

/** The auth state: `disk` is what a revalidation finds. */
class FakeAuth implements RefreshAuthPort {
  current: AuthSnapshot | undefined;
  readonly ready: Promise<AuthSnapshot>;
  private readonly listeners: ((snapshot: AuthSnapshot) => void)[] = [];
  constructor(public disk: AuthSnapshot) {
    this.ready = Promise.resolve(disk);
  }
  onSnapshot(listener: (snapshot: AuthSnapshot) => void): void {
    this.listeners.push(listener);
  }
  async revalidate(): Promise<AuthSnapshot> {
    this.install(this.disk);
    return this.disk;
  }
  install(snapshot: AuthSnapshot): void {
    this.current = snapshot;
    for (const listener of this.listeners) listener(snapshot);
  }
}

/** The token service: every refresh task waits until the test answers it. */
class FakeTokens {
  readonly tasks: { task: RefreshTask; answer: (outcome: RefreshOutcome) => void }[] = [];
  private waiters: (() => void)[] = [];
  run(_name: 'refresh', task: RefreshTask): Promise<RefreshOutcome> {
    return new Promise((resolve) => {
      this.tasks.push({ task, answer: resolve });
      for (const waiter of this.waiters.splice(0)) waiter();
    });
  }
  /** Answers every task still open (test clean-up). */
  answerAll(snapshot: AuthSnapshot): void {
    for (const { answer } of this.tasks) answer(fail(snapshot, 'refresh_stopped', false));
  }
  /** Resolves when the n-th task (1-based) has arrived. */
  async nth(n: number) {
    while (this.tasks.length < n) await new Promise<void>((resolve) => this.waiters.push(resolve));
    return this.tasks[n - 1]!;
  }
}

const base = { store: { codexHome: '/nowhere', mode: 'file' as const }, issuer: 'http://127.0.0.1:9' };
const ok = (snapshot: AuthSnapshot): RefreshOutcome => ({ ok: true, via: 'network', snapshot });
const fail = (snapshot: AuthSnapshot, code: string, permanent: boolean, extra: object = {}): RefreshOutcome =>
  ({ ok: false, code, message: `${code} message`, permanent, snapshot, ...extra }) as RefreshOutcome;
/** Lets promise callbacks run (the fake clock does not move). */
const flush = async () => {
  for (let i = 0; i < 20; i++) await Promise.resolve();
};

async function setup(t: TestContext, snapshot: AuthSnapshot) {
  const auth = new FakeAuth(snapshot);
  const tokens = new FakeTokens();
  const coordinator = new RefreshCoordinator(tokens, auth, base, log, { clock: { now: () => Date.now(), random: () => 0 } });
  t.after(async () => {
    tokens.answerAll(snapshot);
    await coordinator.close(0);
  });
  auth.install(snapshot); // as the first validation does
  return { auth, tokens, coordinator };
}

function fakeClock(t: TestContext, now: number) {
  t.mock.timers.enable({ apis: ['setTimeout', 'Date'], now });
  return (ms: number) => t.mock.timers.tick(ms);
}

test('window: exp in 4 minutes refreshes at once; exp in 6 minutes only once it is 5 minutes away', async (t) => {
  const T0 = wholeSecond();
  const soon = await snapshotOf('a', { expiresAt: T0 + 4 * MINUTE, lastRefresh: T0 });
  const later = await snapshotOf('b', { expiresAt: T0 + 6 * MINUTE, lastRefresh: T0 });
  const tick = fakeClock(t, T0);

  const first = await setup(t, soon);
  tick(0);
  await flush();
  assert.equal(first.tokens.tasks.length, 1, 'exp in 4 min: refreshing');
  assert.equal(first.tokens.tasks[0]!.task.force, false, 'a background refresh leaves tokens that are not due alone');

  const second = await setup(t, later);
  tick(MINUTE - 1);
  await flush();
  assert.equal(second.tokens.tasks.length, 0, 'exp in 6 min: not yet');
  tick(1);
  await flush();
  assert.equal(second.tokens.tasks.length, 1, 'refreshed as exp came within 5 minutes');
  assert.equal(second.tokens.tasks[0]!.task.basedOn, 'b');
});

test('window without a readable exp: last_refresh 9 days ago refreshes; 7 days ago waits until day 8; a fresh exp beats an old last_refresh', async (t) => {
  const T0 = wholeSecond();
  const nineDays = await snapshotOf('nine', { lastRefresh: T0 - 9 * DAY });
  const sevenDays = await snapshotOf('seven', { lastRefresh: T0 - 7 * DAY });
  const freshJwt = await snapshotOf('fresh', { expiresAt: T0 + 60 * MINUTE, lastRefresh: T0 - 9 * DAY });
  const tick = fakeClock(t, T0);

  const stale = await setup(t, nineDays);
  const aging = await setup(t, sevenDays);
  const fresh = await setup(t, freshJwt);
  tick(0);
  await flush();
  assert.equal(stale.tokens.tasks.length, 1, 'unreadable exp + 9-day-old last_refresh: refresh');
  assert.equal(aging.tokens.tasks.length, 0);
  assert.equal(fresh.tokens.tasks.length, 0, 'a valid exp decides, not last_refresh');
  tick(DAY - 1);
  await flush();
  assert.equal(aging.tokens.tasks.length, 0);
  tick(1);
  await flush();
  assert.equal(aging.tokens.tasks.length, 1, 'due 8 days after last_refresh');
  assert.equal(fresh.tokens.tasks.length, 1, 'and the fresh token 5 minutes before its exp');
});

test('50 concurrent callers share one refresh', async (t) => {
  const snapshot = await snapshotOf('a', { expiresAt: Date.now() + 60 * MINUTE });
  const { tokens, coordinator, auth } = await setup(t, snapshot);
  const outcomes = Array.from({ length: 50 }, () => coordinator.refresh(true));
  const { task, answer } = await tokens.nth(1);
  assert.equal(task.force, true);
  assert.equal(task.accountId, 'acct-1');
  const rotated = await snapshotOf('a2', { expiresAt: Date.now() + 120 * MINUTE });
  auth.disk = rotated;
  answer(ok(rotated));
  const results = await Promise.all(outcomes);
  assert.equal(tokens.tasks.length, 1);
  assert.ok(results.every((r) => r === results[0]));
  assert.equal(auth.current!.fingerprint, 'a2', 'the store is read again after the refresh');
});

test('a permanent failure is remembered for its record: token withheld, no second request, no background storm; a new record starts afresh', async (t) => {
  const T0 = wholeSecond();
  const snapshot = await snapshotOf('dead', { expiresAt: T0 + 2 * MINUTE });
  const tick = fakeClock(t, T0);
  const { tokens, coordinator, auth } = await setup(t, snapshot);
  tick(0);
  (await tokens.nth(1)).answer(fail(snapshot, 'refresh_token_reused', true));
  await flush();
  assert.deepEqual(coordinator.statusOf(snapshot), { error: { code: 'refresh_token_reused', message: 'refresh_token_reused message' }, serveToken: false });
  const again = await coordinator.refresh(true);
  assert.equal(!again.ok && again.code, 'refresh_token_reused');
  tick(60 * MINUTE);
  await flush();
  assert.equal(tokens.tasks.length, 1, 'one request, however often it is asked or due');

  const signedInAgain = await snapshotOf('new', { expiresAt: Date.now() + 60 * MINUTE });
  auth.install(signedInAgain);
  assert.deepEqual(coordinator.statusOf(signedInAgain), { serveToken: true });
  void coordinator.refresh(true);
  assert.equal((await tokens.nth(2)).task.basedOn, 'new');
});

test('another account, or nothing left to refresh, is reported but never remembered against the record now stored', async (t) => {
  const snapshot = await snapshotOf('a', { expiresAt: Date.now() + 60 * MINUTE });
  const { tokens, coordinator, auth } = await setup(t, snapshot);
  const other = await snapshotOf('other', { expiresAt: Date.now() + 60 * MINUTE });
  auth.disk = other;
  const pending = coordinator.refresh(true);
  (await tokens.nth(1)).answer(fail(other, 'account_changed', true));
  const outcome = await pending;
  assert.equal(!outcome.ok && outcome.code, 'account_changed');
  assert.deepEqual(coordinator.statusOf(other), { serveToken: true });
  void coordinator.refresh(true);
  await tokens.nth(2);
});

test('transient failures: a valid token is still served silently, an expired one is withheld with the error; background retries back off', async (t) => {
  const T0 = wholeSecond();
  const snapshot = await snapshotOf('a', { expiresAt: T0 + 3 * MINUTE });
  const tick = fakeClock(t, T0);
  const { tokens, coordinator } = await setup(t, snapshot);
  tick(0);
  (await tokens.nth(1)).answer(fail(snapshot, 'refresh_unavailable', false));
  await flush();
  assert.deepEqual(coordinator.statusOf(snapshot), { serveToken: true }, 'still valid: served, no error');

  tick(TRANSIENT_RETRY_MS - 1);
  await flush();
  assert.equal(tokens.tasks.length, 1);
  tick(1);
  await flush();
  assert.equal(tokens.tasks.length, 2, 'retried after a minute');
  (await tokens.nth(2)).answer(fail(snapshot, 'refresh_timeout', false));
  await flush();
  tick(2 * TRANSIENT_RETRY_MS - 1);
  await flush();
  assert.equal(tokens.tasks.length, 2, 'then after two');
  tick(1);
  await flush();
  assert.equal(tokens.tasks.length, 3);
  (await tokens.nth(3)).answer(fail(snapshot, 'refresh_timeout', false));
  await flush();
  assert.ok(Date.now() >= snapshot.accessTokenExpiresAt!, 'the token has expired meanwhile');
  assert.deepEqual(coordinator.statusOf(snapshot), { error: { code: 'refresh_timeout', message: 'refresh_timeout message' }, serveToken: false });
});

test('Retry-After longer than a refresh waits is honoured for every caller', async (t) => {
  const T0 = wholeSecond();
  const snapshot = await snapshotOf('a', { expiresAt: T0 + 60 * MINUTE });
  const tick = fakeClock(t, T0);
  const { tokens, coordinator } = await setup(t, snapshot);
  const first = coordinator.refresh(true);
  (await tokens.nth(1)).answer(fail(snapshot, 'refresh_unavailable', false, { retryAfterMs: 120_000 }));
  await first;
  const paused = await coordinator.refresh(true);
  assert.equal(!paused.ok && paused.code, 'refresh_unavailable');
  assert.equal(tokens.tasks.length, 1, 'no request during the pause');
  tick(120_000);
  void coordinator.refresh(true);
  await tokens.nth(2);
});

test('background refreshes never follow each other closer than the minimum interval', async (t) => {
  const T0 = wholeSecond();
  const snapshot = await snapshotOf('a', { expiresAt: T0 + 2 * MINUTE });
  const tick = fakeClock(t, T0);
  const { tokens, auth } = await setup(t, snapshot);
  tick(0);
  // The issuer hands out a token that is due at once again.
  const shortLived = await snapshotOf('b', { expiresAt: T0 + 4 * MINUTE });
  auth.disk = shortLived;
  (await tokens.nth(1)).answer(ok(shortLived));
  await flush();
  tick(MIN_BACKGROUND_INTERVAL_MS - 1);
  await flush();
  assert.equal(tokens.tasks.length, 1);
  tick(1);
  await flush();
  assert.equal(tokens.tasks.length, 2);
});

test('exclusive (logout): the refresh in flight may no longer write, and none starts until the change is done', async (t) => {
  const snapshot = await snapshotOf('a', { expiresAt: Date.now() + 60 * MINUTE });
  const { tokens, coordinator, auth } = await setup(t, snapshot);
  const waiting = coordinator.refresh(true);
  const first = await tokens.nth(1);
  const control = new RefreshControl(first.task.control!);
  let changeDone = false;
  let refreshDuringChange: Promise<RefreshOutcome> | undefined;
  await coordinator.exclusive(async () => {
    assert.equal(control.beginCommit(), false, 'the worker’s write is forbidden');
    refreshDuringChange = coordinator.refresh(true);
    await flush();
    assert.equal(tokens.tasks.length, 1, 'no refresh starts during the change');
    auth.disk = await snapshotOf('after-logout', {});
    changeDone = true;
  });
  assert.ok(changeDone);
  const second = await tokens.nth(2);
  assert.equal(second.task.basedOn, 'a', 'a new flight, not the superseded one');
  first.answer(fail(snapshot, 'credentials_changed', false));
  second.answer(ok(auth.disk));
  const superseded = await waiting;
  assert.equal(!superseded.ok && superseded.code, 'credentials_changed');
  assert.equal((await refreshDuringChange!).ok, true);
});

test('exclusive waits for a write that has already begun', async (t) => {
  const snapshot = await snapshotOf('a', { expiresAt: Date.now() + 60 * MINUTE });
  const { tokens, coordinator } = await setup(t, snapshot);
  void coordinator.refresh(true);
  const first = await tokens.nth(1);
  assert.equal(new RefreshControl(first.task.control!).beginCommit(), true, 'the worker began writing');
  const order: string[] = [];
  const change = coordinator.exclusive(async () => void order.push('change'));
  await flush();
  order.push('write done');
  first.answer(ok(snapshot));
  await change;
  assert.deepEqual(order, ['write done', 'change']);
});

test('close lets an attempt already sent finish; one not sent yet is stopped at once', async (t) => {
  const snapshot = await snapshotOf('a', { expiresAt: Date.now() + 60 * MINUTE });
  const { tokens, coordinator } = await setup(t, snapshot);
  void coordinator.refresh(true);
  const first = await tokens.nth(1);
  const worker = new RefreshControl(first.task.control!);
  assert.equal(worker.beginSend(), true, 'the worker sent its request');
  const order: string[] = [];
  const closing = coordinator.close().then(() => order.push('closed'));
  await flush();
  order.push('answer persisted');
  worker.endSend();
  assert.equal(worker.beginSend(), false, 'no further attempt after the stop');
  first.answer(ok(snapshot));
  await closing;
  assert.deepEqual(order, ['answer persisted', 'closed']);
  const after = await coordinator.refresh(true);
  assert.equal(!after.ok && after.code, 'refresh_stopped');
  assert.equal(tokens.tasks.length, 1);
});
