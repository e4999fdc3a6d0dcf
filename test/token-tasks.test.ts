/**
 * The token service's task table (src/protocol/token-service-tasks.ts) is what both sides are
 * built from: the worker exports exactly its tasks (plus the warm-up), and refuses a task its
 * schema does not accept, before any work.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { TokenTasks, type TokenTaskName } from '../src/protocol/token-service-tasks.js';
import type * as TokenServiceWorker from '../workers/token-service/main.js';

/** Compiles only while every task of the table is exported by the worker under its name (piscina calls exports by name). */
type Unexported = Exclude<TokenTaskName, keyof typeof TokenServiceWorker>;
export const everyTaskExported: [Unexported] extends [never] ? true : never = true;

test('the token service exports one function per task of the table, and parses each task on arrival', async () => {
  const worker = (await import('../workers/token-service/main.js')) as Record<string, unknown>;
  assert.deepEqual(Object.keys(worker).filter((name) => typeof worker[name] === 'function').sort(), [...Object.keys(TokenTasks), 'warm'].sort());
  for (const name of Object.keys(TokenTasks)) {
    await assert.rejects((worker[name] as (raw: unknown) => Promise<unknown>)({ store: 'not options' }), /Invalid|expected/i, `${name} refuses a malformed task`);
  }
});
