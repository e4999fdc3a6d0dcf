/**
 * Signing out, shared by `logoutChatGpt`, `account/logout`, the `logout` tool and the CLI: cancel
 * a pending login, revoke the tokens at the issuer when asked (fail-closed, as codex: if that
 * fails, nothing is deleted and the caller gets the reason), then remove the stored credentials
 * and report what is still in force.
 */
import { internalError } from '../protocol/jsonrpc.js';
import type { AuthSnapshot } from '../protocol/snapshot.js';
import type { ServerContext } from './context.js';

export interface LogoutOptions {
  /** Revoke the tokens at the issuer first (when undefined: config `logout_revokes_tokens`). */
  readonly revoke?: boolean | undefined;
}

export interface LogoutOutcome {
  /** The snapshot after logout: e.g. `apikey` when OPENAI_API_KEY is still set. */
  readonly snapshot: AuthSnapshot;
  /** Whether the issuer confirmed the revocation (false when not asked or nothing to revoke). */
  readonly revoked: boolean;
}

export async function performLogout(context: ServerContext, options: LogoutOptions = {}): Promise<LogoutOutcome> {
  const { store, auth, config } = context;
  await context.logins.cancelActive();
  let revoked = false;
  if (options.revoke ?? config.logout_revokes_tokens) {
    const outcome = await context.tokens.revoke({ store: { codexHome: context.codexHome, mode: config.cli_auth_credentials_store }, issuer: config.auth_issuer, timeoutMs: config.revoke_timeout_secs * 1000 });
    if (!outcome.ok) {
      throw internalError(`logout failed: ${outcome.message}; your credentials were kept (to remove them only here: revoke: false, or codex-auth-mcp logout --local)`);
    }
    revoked = outcome.revoked;
  }
  // A refresh of ours in flight may no longer write its result (exclusive); one stuck on a hung
  // issuer holds the lock, so logout goes ahead after a second regardless, and a sibling's
  // refresh re-checks the record before writing.
  const snapshot = await context.refresher.exclusive(() =>
    auth.mutate(async () => {
      await store.withLock(() => store.delete(), { maxWaitMs: 1_000, onTimeout: 'proceed' });
    }),
  );
  return { snapshot, revoked };
}
