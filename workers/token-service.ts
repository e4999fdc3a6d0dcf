/**
 * The token service: a piscina worker that reads stored credentials, decodes and validates the
 * tokens, and refreshes and revokes them. Each named export is one task; every result is a
 * protocol value (never a thrown error, which would lose its fields crossing the thread boundary).
 */
import { openCredentialStore } from '../src/auth/store/store.js';
import { resolveSnapshot } from '../src/auth/resolve-snapshot.js';
import type { AuthSnapshot, RefreshOutcome } from '../src/protocol/snapshot.js';
import type { RefreshTask, RevokeOutcome, RevokeTask, ValidateTask } from '../src/auth/token-service-tasks.js';

export async function validate(task: ValidateTask): Promise<AuthSnapshot> {
  const store = openCredentialStore(task.store);
  const stored = await store.load();
  return resolveSnapshot(stored, { storage: store.kind, storageWarning: store.warning });
}

// The HTTP client (undici) is loaded on the first refresh or revocation, not when the thread
// starts: most threads only validate (start-up, a changed auth.json), and a status request waits
// for that validation, so the thread's start-up is kept to what reading credentials needs.
export async function refresh(task: RefreshTask): Promise<RefreshOutcome> {
  const { runRefresh } = await import('../src/auth/refresh-task.js');
  return runRefresh(task);
}

export async function revoke(task: RevokeTask): Promise<RevokeOutcome> {
  const { runRevoke } = await import('../src/auth/revoke-request.js');
  return runRevoke(task);
}
