/**
 * The login engine on its own, in this process: what happens when the login worker dies under
 * a pending login (its logins must still end exactly once, and the next login gets a new worker).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { pino } from 'pino';
import { ConfigSchema } from '../src/config/schema.js';
import { LoginEngine, WORKER_STOPPED_ERROR, type LoginCompletion } from '../src/login/login-engine.js';
import type { AuthSnapshot } from '../src/protocol/snapshot.js';
import { tempHome } from './support/temp-home.js';

test('a login worker that dies ends its pending login with internal_error; the next login gets a fresh worker', { timeout: 20_000 }, async (t) => {
  const home = await tempHome();
  const engine = new LoginEngine({
    config: ConfigSchema.parse({ login_callback_port: 0 }),
    store: { codexHome: home.path, mode: 'file' },
    auth: { beginMutation: () => ({ finish: async () => ({}) as AuthSnapshot }) },
    log: pino({ level: 'silent' }),
    workerFile: new URL('./support/crashing-login-worker.js', import.meta.url),
  });
  t.after(async () => {
    await engine.close();
    await home.remove();
  });
  const completions: LoginCompletion[] = [];
  let completed!: (completion: LoginCompletion) => void;
  engine.onComplete((completion) => {
    completions.push(completion);
    completed(completion);
  });
  const nextCompletion = () => new Promise<LoginCompletion>((resolve) => (completed = resolve));

  for (const round of [1, 2]) {
    const { loginId, authUrl } = await engine.startChatGpt();
    engine.release(loginId);
    const ending = nextCompletion();
    // The request kills the worker: its handler throws, uncaught.
    await fetch(authUrl).then(
      (response) => response.body?.cancel(),
      () => undefined,
    );
    assert.deepEqual(await ending, { loginId, success: false, errorCode: 'internal_error', error: WORKER_STOPPED_ERROR }, `round ${round}`);
    assert.equal(engine.activeLoginId, undefined, 'nothing is left pending');
    assert.equal(await engine.cancel(loginId), false, 'an ended login cannot be cancelled');
  }
  assert.equal(completions.length, 2, 'exactly one completion per login');
});
