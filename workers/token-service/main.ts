/**
 * The token service: a piscina worker that reads stored credentials, decodes and validates the
 * tokens, and refreshes and revokes them. Each named export is one task; every result is a
 * protocol value (never a thrown error, which would lose its fields crossing the thread boundary).
 */
import { openCredentialStore } from '../../src/auth/store/store.js';
import { resolveSnapshot } from './resolve-snapshot.js';
import type { AuthSnapshot, RefreshOutcome } from '../../src/protocol/snapshot.js';
import {
  ListSessionsTaskSchema,
  RefreshInactiveTaskSchema,
  RemoveSessionTaskSchema,
  SwitchSessionTaskSchema,
  type ListSessionsTask,
  type RefreshInactiveOutcome,
  type RefreshInactiveTask,
  type RemoveSessionTask,
  type SessionOutcome,
  type SwitchSessionTask,
  RefreshTaskSchema,
  RevokeTaskSchema,
  ValidateTaskSchema,
  type RefreshTask,
  type RevokeOutcome,
  type RevokeTask,
  type ValidateTask,
} from '../../src/protocol/token-service-tasks.js';

/** The early start's task (src/auth/token-service-pool.ts): it only makes the pool start a thread. */
export function warm(): void {}

// Every task is parsed on arrival, as the main thread parses every answer: a value that crossed
// the thread boundary is trusted only once its schema has read it.
export async function validate(raw: ValidateTask): Promise<AuthSnapshot> {
  const task = ValidateTaskSchema.parse(raw);
  const store = openCredentialStore(task.store);
  const stored = await store.load();
  return resolveSnapshot(stored, { storage: store.kind, storageWarning: store.warning, restrictions: task.restrictions });
}

// The HTTP client (undici) is loaded on the first refresh or revocation, not when the thread
// starts: most threads only validate (start-up, a changed auth.json), and a status request waits
// for that validation, so the thread's start-up is kept to what reading credentials needs.
export async function refresh(raw: RefreshTask): Promise<RefreshOutcome> {
  const task = RefreshTaskSchema.parse(raw);
  const { runRefresh } = await import('./refresh-task.js');
  return runRefresh(task);
}

export async function revoke(raw: RevokeTask): Promise<RevokeOutcome> {
  const task = RevokeTaskSchema.parse(raw);
  const { runRevoke } = await import('./revoke-request.js');
  return runRevoke(task);
}

// Account sessions (session-tasks.ts): loaded on first use, like the refresh.
export async function listSessions(raw: ListSessionsTask): Promise<SessionOutcome> {
  const task = ListSessionsTaskSchema.parse(raw);
  return (await import('./session-tasks.js')).runListSessions(task);
}

export async function switchSession(raw: SwitchSessionTask): Promise<SessionOutcome> {
  const task = SwitchSessionTaskSchema.parse(raw);
  return (await import('./session-tasks.js')).runSwitchSession(task);
}

export async function removeSession(raw: RemoveSessionTask): Promise<SessionOutcome> {
  const task = RemoveSessionTaskSchema.parse(raw);
  return (await import('./session-tasks.js')).runRemoveSession(task);
}

export async function refreshInactive(raw: RefreshInactiveTask): Promise<RefreshInactiveOutcome> {
  const task = RefreshInactiveTaskSchema.parse(raw);
  return (await import('./session-tasks.js')).runRefreshInactive(task);
}
