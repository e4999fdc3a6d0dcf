/**
 * Signing out, shared by `logoutChatGpt`, `account/logout`, the `logout` tool and the CLI: cancel
 * a pending login, revoke the tokens at the issuer when asked, then remove the stored
 * credentials and report what is still in force. Revocation is best effort, as in current Codex
 * (codex-rs `logout_with_revoke`): a failed one is logged and reported in the answer, and the
 * local credentials are removed anyway, so a person who is offline can still sign out.
 */
import type { RevokeError } from '../protocol/auth-wire.js';
import type { AuthSnapshot } from '../protocol/snapshot.js';
import type { ServerContext } from './context.js';
import type { After } from './sign-in.js';

export interface LogoutOptions {
  /** Revoke the tokens at the issuer first (when undefined: config `logout_revokes_tokens`). */
  readonly revoke?: boolean | undefined;
}

export interface LogoutOutcome {
  /** The snapshot after logout; undefined when it could not be validated yet (see AuthState.mutate). */
  readonly snapshot: AuthSnapshot | undefined;
  /** Whether the issuer confirmed the revocation (false when not asked, nothing to revoke, or it failed). */
  readonly revoked: boolean;
  /** Set when a revocation was tried and failed. */
  readonly revokeError?: RevokeError;
}

/** The logout under way per server: logouts run one after another (see performLogout). */
const lastLogout = new WeakMap<ServerContext, Promise<unknown>>();

/**
 * Signs out; announces what is still in force through `after` (see sign-in.ts). Logouts queue
 * behind each other, so a burst of them revokes once and each answer tells what its own turn
 * did, instead of racing for the token service.
 */
export function performLogout(context: ServerContext, options: LogoutOptions, after: After): Promise<LogoutOutcome> {
  const turn = (lastLogout.get(context) ?? Promise.resolve()).then(() => logoutNow(context, options, after));
  lastLogout.set(context, turn.catch(() => undefined));
  return turn;
}

async function logoutNow(context: ServerContext, options: LogoutOptions, after: After): Promise<LogoutOutcome> {
  const { store, auth, config } = context;
  await context.logins.cancelActive();
  const revocation = options.revoke ?? config.logout_revokes_tokens ? await revoke(context) : { revoked: false };
  // A refresh of ours in flight may no longer write its result (exclusive); one stuck on a hung
  // issuer holds the lock, so logout goes ahead after a second regardless, and a sibling's
  // refresh re-checks the record before writing.
  const snapshot = await context.refresher.exclusive(() =>
    auth.mutate(async () => {
      await store.withLock(() => store.delete(), { maxWaitMs: 1_000, onTimeout: 'proceed' });
    }),
  );
  after(() => snapshot && context.notifier.authChanged(snapshot));
  return { snapshot, ...revocation };
}

async function revoke(context: ServerContext): Promise<{ revoked: boolean; revokeError?: RevokeError }> {
  const { config } = context;
  const outcome = await context.tokens
    .revoke({ store: context.storeOptions, issuer: config.auth_issuer, timeoutMs: config.revoke_timeout_secs * 1000 })
    .catch((error: unknown) => ({ ok: false as const, code: 'revoke_unavailable', message: `the token service failed (${(error as Error).message})` }));
  if (outcome.ok) return { revoked: outcome.revoked };
  context.log.warn({ code: outcome.code }, `failed to revoke the tokens during logout (${outcome.message}); removing the local credentials anyway`);
  return { revoked: false, revokeError: { code: outcome.code, message: outcome.message } };
}
