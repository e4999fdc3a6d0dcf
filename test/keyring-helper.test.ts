/**
 * The keyring helper processes and the keyring store's change watching, driven directly: calls
 * close behind one another share a helper, which ends when left idle; a stuck call is killed at
 * its timeout, a helper whose parent died ends itself, the secret never shows in a process
 * listing, and a sibling writer's lock is noticed at once.
 */
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { once } from 'node:events';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { openCredentialStore } from '../src/auth/store/store.js';
import { callKeyring, KEYRING_SERVICE } from '../src/auth/store/keyring-entry.js';
import { fakeKeyringEnv } from './support/fake-keyring-env.js';
import { endIdleHelpers, IDLE_MS, MAX_HELPER_LINE_CHARS } from '../src/auth/store/keyring-helpers.js';
import { workerFile } from '../src/worker-files.js';
import { eventually } from './support/eventually.js';
import { tempHome } from './support/temp-home.js';
import { isRunning } from './support/processes.js';

const keyringEntryModule = fileURLToPath(new URL('../src/auth/store/keyring-entry.js', import.meta.url));

/**
 * Points this process's keyring helpers at the fake (they inherit the environment, so an idle
 * helper started for another test's fake must not take these calls).
 */
async function useFake(t: { after(fn: () => unknown): void }, behaviour: 'memory' | 'hang' | 'fail' | 'flood') {
  endIdleHelpers();
  const dir = await mkdtemp(join(tmpdir(), 'fake-keyring-'));
  if (behaviour === 'hang' || behaviour === 'flood') execFileSync('mkfifo', [join(dir, 'hang.fifo')]);
  const fake = fakeKeyringEnv(behaviour, dir);
  const before = Object.fromEntries(Object.keys(fake).map((key) => [key, process.env[key]]));
  Object.assign(process.env, fake);
  t.after(async () => {
    endIdleHelpers();
    for (const [key, value] of Object.entries(before)) {
      if (value === undefined) delete process.env[key];
      else process.env[key] = value;
    }
    await rm(dir, { recursive: true, force: true, maxRetries: 5 });
  });
  return dir;
}

const helperPids = async (dir: string) => (await readdir(join(dir, 'pids')).catch(() => [])).map(Number);
const isGone = (pid: number) => assert.ok(!isRunning(pid), `helper ${pid} is still running`);
const request = { service: KEYRING_SERVICE, account: 'cli|0123456789abcdef' };

test('a keyring call stuck in a system call is given up at its timeout, and its helper is killed', async (t) => {
  const dir = await useFake(t, 'hang');
  const answer = await callKeyring({ ...request, op: 'get' }, 300);
  assert.deepEqual(answer, { ok: false, message: 'the OS keyring did not answer within 0.3 s' });
  const pids = await helperPids(dir);
  assert.equal(pids.length, 1);
  await eventually(() => pids.forEach(isGone));
});

test("issue 26: a helper that writes without end is cut off at the bound, fails its call at once and is killed (before: kept in memory until the 20 s start timeout)", async (t) => {
  const dir = await useFake(t, 'flood');
  const started = Date.now();
  const answer = await callKeyring({ ...request, op: 'get' }, 300);
  assert.deepEqual(answer, { ok: false, message: `the keyring helper wrote more than ${MAX_HELPER_LINE_CHARS / 1024 / 1024} MiB without ending a line` });
  assert.ok(Date.now() - started < 10_000, `answered in ${Date.now() - started} ms, not at the start timeout`);
  const pids = await helperPids(dir);
  assert.equal(pids.length, 1);
  await eventually(() => pids.forEach(isGone));
});

test('a failing keyring answers with the first line of its reason', async (t) => {
  await useFake(t, 'fail');
  assert.deepEqual(await callKeyring({ ...request, op: 'set', value: '{}' }), {
    ok: false,
    message: 'Platform secure storage failure: no secret service provider or dbus session found',
  });
});

test('a working keyring: set, get, delete, and get of a missing entry, all in one helper, which ends when left idle', async (t) => {
  const dir = await useFake(t, 'memory');
  assert.deepEqual(await callKeyring({ ...request, op: 'set', value: '{"OPENAI_API_KEY":"sk-1"}' }), { ok: true });
  assert.deepEqual(await callKeyring({ ...request, op: 'get' }), { ok: true, value: '{"OPENAI_API_KEY":"sk-1"}' });
  assert.deepEqual(await callKeyring({ ...request, op: 'delete' }), { ok: true, removed: true });
  assert.deepEqual(await callKeyring({ ...request, op: 'delete' }), { ok: true, removed: false });
  assert.deepEqual(await callKeyring({ ...request, op: 'get' }), { ok: true, value: null });
  const pids = await helperPids(dir);
  assert.equal(pids.length, 1, 'calls one after another share a helper');
  const idleSince = Date.now();
  await eventually(() => isGone(pids[0]!), IDLE_MS + 10_000);
  assert.ok(Date.now() - idleSince >= IDLE_MS - 100, 'it waited for another call first');
});

test('calls at the same time each get a helper; a helper whose call failed is not reused', async (t) => {
  const dir = await useFake(t, 'memory');
  const answers = await Promise.all([1, 2, 3].map((n) => callKeyring({ ...request, account: `cli|${n}`, op: 'get' })));
  assert.deepEqual(answers, [1, 2, 3].map(() => ({ ok: true, value: null })));
  assert.equal((await helperPids(dir)).length, 3, 'none waited for a busy helper');
  // The next call takes an idle helper, fails there and that helper is killed; the calls after
  // it go to the idle ones left (all within IDLE_MS).
  await writeFile(join(dir, 'refuse-writes'), '');
  assert.equal((await callKeyring({ ...request, op: 'set', value: '{}' })).ok, false);
  await rm(join(dir, 'refuse-writes'));
  const pidsAfterFailure = await helperPids(dir);
  assert.equal(pidsAfterFailure.length, 3, 'the failed call ran in an idle helper');
  await eventually(() => assert.equal(pidsAfterFailure.filter((pid) => isRunning(pid)).length, 2, 'the helper of the failed call is gone'));
  for (let i = 0; i < 3; i++) assert.deepEqual(await callKeyring({ ...request, op: 'get' }), { ok: true, value: null });
  assert.equal((await helperPids(dir)).length, 3, 'the idle helpers took the calls that followed');
});

test('an idle helper killed from outside costs the next call nothing: it runs in a new helper', async (t) => {
  const dir = await useFake(t, 'memory');
  assert.deepEqual(await callKeyring({ ...request, op: 'get' }), { ok: true, value: null });
  const [first] = await helperPids(dir);
  process.kill(first!, 'SIGKILL');
  assert.deepEqual(await callKeyring({ ...request, op: 'get' }), { ok: true, value: null });
  assert.equal((await helperPids(dir)).length, 2);
});

test('a call given up on while its parked helper was answering is not run again elsewhere', async (t) => {
  const dir = await useFake(t, 'memory');
  const calls = async () => (await readFile(join(dir, 'calls'), 'utf8')).split('\n').length - 1;
  assert.deepEqual(await callKeyring({ ...request, op: 'set', value: '{}' }), { ok: true });
  // This thread is busy past the call's timeout while the parked helper deletes the entry and
  // answers: the timeout is seen first. The call fails; it must not be retried in a new helper,
  // which would delete again and report that nothing was removed.
  const started = Date.now();
  const pending = callKeyring({ ...request, op: 'delete' }, 200);
  const deleted = () => readFileSync(join(dir, 'calls'), 'utf8').split('\n').length - 1 === 2;
  // Blocked on purpose (no await): until the helper has deleted, then a moment for its answer, and past the timeout.
  for (const limit = started + 20_000; !deleted() && Date.now() < limit; );
  for (const until = Math.max(Date.now() + 100, started + 300); Date.now() < until; );
  assert.deepEqual(await pending, { ok: false, message: 'the OS keyring did not answer within 0.2 s' });
  assert.equal(await calls(), 2, 'the delete ran once');
  assert.deepEqual(await callKeyring({ ...request, op: 'get' }), { ok: true, value: null }, 'and it did delete');
});

test('the secret reaches the helper on stdin: never in its arguments or environment', async (t) => {
  const dir = await useFake(t, 'hang');
  const secret = 'sk-must-not-show-in-ps';
  const pending = callKeyring({ ...request, op: 'set', value: secret }, 30_000);
  const [pid] = await eventually(async () => {
    const pids = await helperPids(dir);
    assert.equal(pids.length, 1);
    return pids;
  });
  const cmdline = await readFile(`/proc/${pid}/cmdline`, 'utf8');
  const environ = await readFile(`/proc/${pid}/environ`, 'utf8');
  assert.ok(cmdline.includes('workers/keyring/main.js'), cmdline);
  assert.ok(!cmdline.includes(secret) && !environ.includes(secret));
  process.kill(pid!, 'SIGKILL');
  assert.equal((await pending).ok, false);
});

test('a helper whose parent dies ends itself, even with its call stuck', async (t) => {
  const dir = await useFake(t, 'hang');
  // A parent that starts a stuck call and is then killed without any chance to clean up.
  const parent = spawn(process.execPath, ['--input-type=module', '-e', `import(${JSON.stringify(keyringEntryModule)}).then((m) => m.callKeyring(${JSON.stringify({ ...request, op: 'get' })}, 600000))`], {
    stdio: 'ignore',
  });
  t.after(() => parent.kill('SIGKILL'));
  const [pid] = await eventually(async () => {
    const pids = await helperPids(dir);
    assert.equal(pids.length, 1);
    return pids;
  });
  process.kill(parent.pid!, 'SIGKILL');
  await once(parent, 'exit');
  await eventually(() => isGone(pid!));
});

test('a helper that cannot write its answer (its parent closed the pipe) ends itself, even with its call stuck', { timeout: 20_000 }, async (t) => {
  const dir = await useFake(t, 'hang');
  // Our end of the helper's stdout closes before it can say "started"; stdin stays open, so
  // only the failed write can tell it that nobody is listening. Unheard, that EPIPE ended the
  // helper the plain way, and a plain exit waits for the stuck call: it never went.
  const helper = spawn(process.execPath, [fileURLToPath(workerFile('keyring'))], { stdio: ['pipe', 'pipe', 'ignore'] });
  t.after(() => helper.kill('SIGKILL'));
  const exited = once(helper, 'exit');
  helper.stdout.destroy();
  helper.stdin.write(`${JSON.stringify({ ...request, op: 'get' })}\n`);
  const [, signal] = await exited;
  assert.equal(signal, 'SIGKILL', 'it killed itself');
  assert.equal((await helperPids(dir)).length, 1, 'the helper had loaded the keyring and started its call');
});

test('keyring storage notices a sibling writer by the touch of auth.json.lock after its save, without waiting for the next look', { timeout: 20_000 }, async (t) => {
  await useFake(t, 'memory');
  const home = await tempHome();
  t.after(() => home.remove());
  await mkdir(home.path, { recursive: true });
  const store = openCredentialStore({ codexHome: home.path, mode: 'keyring' });
  let calls = 0;
  let wake: (() => void) | undefined;
  const stop = store.watch(() => {
    calls++;
    wake?.();
  });
  t.after(stop);
  const next = (count: number) =>
    new Promise<void>((resolve) => {
      wake = () => calls >= count && resolve();
      wake();
    });
  // The first look at the entry always reports; later looks only report a different entry.
  await next(1);
  // Taking the lock alone changes nothing (a regular lock file, opened and flocked); a save does.
  const saved = next(2);
  const sibling = openCredentialStore({ codexHome: home.path, mode: 'keyring' });
  await sibling.withLock(() => sibling.save({ OPENAI_API_KEY: 'sk-sibling', tokens: null }));
  await saved;
});
