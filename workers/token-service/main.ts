/**
 * The token service: a piscina worker that reads stored credentials, decodes and validates the
 * tokens, and refreshes and revokes them. Its tasks are those of the task table
 * (src/protocol/token-service-tasks.ts): each named export is one, built from the table by
 * `served`, which parses the task on arrival; every result is a protocol value (never a thrown
 * error, which would lose its fields crossing the thread boundary).
 */
import { openCredentialStore } from '../../src/auth/store/store.js';
import { resolveSnapshot } from './resolve-snapshot.js';
import { TokenTasks, type TokenOutcome, type TokenTaskName } from '../../src/protocol/token-service-tasks.js';
import type * as z from '../../src/protocol/zod.js';

/** The early start's task (src/auth/token-service-pool.ts): it only makes the pool start a thread. */
export function warm(): void {}

type Implementations = { readonly [K in TokenTaskName]: (task: z.infer<(typeof TokenTasks)[K]['task']>) => Promise<TokenOutcome<K>> };
type Served = { readonly [K in TokenTaskName]: (raw: unknown) => Promise<TokenOutcome<K>> };

// Every task is parsed on arrival, as the main thread parses every answer: a value that crossed
// the thread boundary is trusted only once its schema has read it.
function served(implementations: Implementations): Served {
  const tasks: Record<string, (raw: unknown) => Promise<unknown>> = {};
  for (const name of Object.keys(TokenTasks) as TokenTaskName[]) {
    const schema = TokenTasks[name].task;
    const run = implementations[name] as (task: unknown) => Promise<unknown>;
    tasks[name] = async (raw) => run(schema.parse(raw));
  }
  return tasks as Served;
}

// The HTTP client (undici) is loaded on the first refresh or revocation, not when the thread
// starts: most threads only validate (start-up, a changed auth.json), and a status request waits
// for that validation, so the thread's start-up is kept to what reading credentials needs.
// Account sessions (session-tasks.ts) are loaded on first use, like the refresh.
const tasks = served({
  async validate(task) {
    const store = openCredentialStore(task.store);
    const stored = await store.load();
    return resolveSnapshot(stored, { storage: store.kind, storageWarning: store.warning, restrictions: task.restrictions });
  },
  refresh: async (task) => (await import('./refresh-task.js')).runRefresh(task),
  revoke: async (task) => (await import('./revoke-request.js')).runRevoke(task),
  listSessions: async (task) => (await import('./session-tasks.js')).runListSessions(task),
  switchSession: async (task) => (await import('./session-tasks.js')).runSwitchSession(task),
  removeSession: async (task) => (await import('./session-tasks.js')).runRemoveSession(task),
  refreshInactive: async (task) => (await import('./session-tasks.js')).runRefreshInactive(task),
});

// Piscina calls a task by its export's name: one export per entry of the table (test/token-tasks.test.ts
// does not compile while one is missing).
export const { validate, refresh, revoke, listSessions, switchSession, removeSession, refreshInactive } = tasks;
