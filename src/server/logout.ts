/**
 * Signing out, shared by `logoutChatGpt`, `account/logout`, the `logout` tool and the CLI:
 * remove the stored credentials under the store lock and report what is still in force.
 */
import type { AuthSnapshot } from '../protocol/snapshot.js';
import type { ServerContext } from './context.js';

export interface LogoutOutcome {
  /** The snapshot after logout: e.g. `apikey` when OPENAI_API_KEY is still set. */
  readonly snapshot: AuthSnapshot;
}

export interface LogoutOptions {
  /** Revoke the tokens at the issuer first (when undefined: config `logout_revokes_tokens`). */
  readonly revoke?: boolean | undefined;
}

export async function performLogout(context: ServerContext, _options: LogoutOptions = {}): Promise<LogoutOutcome> {
  const { store, auth } = context;
  await context.logins.cancelActive();
  const snapshot = await auth.mutate(async () => {
    // A refresh stuck on a hung issuer holds the lock; logout still goes ahead after a second,
    // and that refresh discards its result (it re-checks the record before writing).
    await store.withLock(() => store.delete(), { maxWaitMs: 1_000, onTimeout: 'proceed' });
  });
  return { snapshot };
}
