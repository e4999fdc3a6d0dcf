/**
 * The token service: a piscina worker that reads stored credentials, decodes and validates the
 * tokens, and refreshes them. Each named export is one task; every result is a protocol value
 * (never a thrown error, which would lose its fields crossing the thread boundary).
 */
import { openCredentialStore } from '../src/auth/credential-store.js';
import { resolveSnapshot } from '../src/auth/resolve-snapshot.js';
import type { AuthSnapshot } from '../src/protocol/snapshot.js';
import type { ValidateTask } from '../src/auth/token-service-tasks.js';

export async function validate(task: ValidateTask): Promise<AuthSnapshot> {
  const store = openCredentialStore(task.store);
  const stored = await store.load();
  return resolveSnapshot(stored, { ...task.resolve, storage: store.kind, storageWarning: store.warning });
}

export { runRefresh as refresh } from '../src/auth/refresh-task.js';
export { runRevoke as revoke } from '../src/auth/revoke-request.js';
