/**
 * Signing out, shared by `logoutChatGpt`, `account/logout`, the `logout` tool and the CLI: cancel
 * a pending login, revoke the tokens at the issuer when asked, then remove the stored
 * credentials and report what is still in force. Revocation is best effort, as in current Codex
 * (codex-rs `logout_with_revoke`): a failed one is logged and reported in the answer, and the
 * local credentials are removed anyway, so a person who is offline can still sign out.
 */
import type { RevokeError } from '../../protocol/auth-wire.js';
import type { AuthSnapshot } from '../../protocol/snapshot.js';
import type { RevokeTarget } from '../../protocol/token-service-tasks.js';
import type { ServerContext } from '../context.js';
import type { After } from './sign-in.js';

export interface LogoutOptions {
  /** Revoke the tokens at the issuer first (when undefined: config `logout_revokes_tokens`). */
  readonly revoke?: boolean | undefined;
  /** The caller shows a failed revocation to a person itself (the CLI's warning): log it at debug, not warn. */
  readonly failureShownToPerson?: boolean;
}

export interface LogoutOutcome {
  /** The snapshot after logout; undefined when it could not be validated yet (see AuthState.mutate). */
  readonly snapshot: AuthSnapshot | undefined;
  /** Whether the issuer confirmed the revocation (false when not asked, nothing to revoke, or it failed). */
  readonly revoked: boolean;
  /** Set when a revocation was tried and failed. */
  readonly revokeError?: RevokeError;
}

/**
 * Signs out; announces what is still in force through `after` (see sign-in.ts). Logouts never
 * overlap: every logout of the server is a request that changes "auth" (logoutChatGpt,
 * account/logout, the logout tool), which the request order (method-pipeline.ts) runs one after
 * another, so a burst of them revokes once and each answer tells what its own turn did; the CLI
 * runs one command per process.
 */
export function performLogout(context: ServerContext, options: LogoutOptions, after: After): Promise<LogoutOutcome> {
  return logoutNow(context, options, after);
}

/** Rounds of "revoke what is stored, delete it if still there" while a sibling keeps rotating the same account. */
const SAME_ACCOUNT_ROUNDS = 3;

/**
 * Revocation happens outside the lock (a slow issuer must not hold up everyone's refresh), so by
 * the time the local delete takes the lock, another server may have switched accounts or signed
 * in: the delete removes only the record that was revoked (by its fingerprint, under the lock).
 * The same account rotated meanwhile is revoked and deleted in turn; another account, which
 * someone else just chose, is kept. A copy of the signed-out account that a sibling's switch
 * moved into the account store goes too (revoked as well, when revoking).
 */
async function logoutNow(context: ServerContext, options: LogoutOptions, after: After): Promise<LogoutOutcome> {
  const { store, auth, config } = context;
  await context.logins.cancelActive();
  const revoking = options.revoke ?? config.logout_revokes_tokens;
  const shownToPerson = options.failureShownToPerson === true;
  const first = await revoke(context, revoking, shownToPerson);
  let { target } = first;
  const sessionId = target?.sessionId ?? null;
  let revocation: { revoked: boolean; revokeError?: RevokeError } = { revoked: first.revoked, ...(first.revokeError && { revokeError: first.revokeError }) };
  let snapshot: AuthSnapshot | undefined;
  let deleted = false;
  for (let round = 0; ; round++) {
    // Nothing was stored when the token service looked: nothing is deleted (a sign-in that lands
    // meanwhile stays). When it could not look at all, whatever is stored goes, as before.
    if (first.looked && !target) {
      snapshot = await auth.mutate(async () => undefined);
      break;
    }
    const expected = target?.fingerprint;
    // A refresh of ours in flight may no longer write its result (exclusive); one stuck on a hung
    // issuer holds the lock, so logout goes ahead after a second regardless, and a sibling's
    // refresh re-checks the record before writing.
    snapshot = await context.refresher.exclusive(() =>
      auth.mutate(async () => {
        deleted = await store.withLock(
          async () => {
            const stored = await store.load();
            if (stored.kind === 'missing' || (expected !== undefined && stored.fingerprint !== expected)) return false;
            return store.delete();
          },
          { maxWaitMs: 1_000, onTimeout: 'proceed' },
        );
      }),
    );
    if (deleted || expected === undefined || sessionId === null || round + 1 >= SAME_ACCOUNT_ROUNDS) break;
    // Something else is stored now: the same account, rotated by a sibling, goes the same way.
    const again = await revoke(context, false);
    if (!again.target || again.target.sessionId !== sessionId) break;
    const next = revoking ? await revoke(context, true, shownToPerson) : again;
    if (!next.target || next.target.sessionId !== sessionId) break;
    target = next.target;
    if (next.revokeError) revocation = { revoked: revocation.revoked, revokeError: next.revokeError };
  }
  if (!deleted && sessionId !== null) {
    // The signed-out account was moved into the account store meanwhile (a sibling's switch): it goes from there.
    await context.tokens
      .run('removeSession', { store: context.storeOptions, sessionId, ...(revoking && { revokeAt: config.auth_issuer, revokeTimeoutMs: config.revoke_timeout_secs * 1000 }) })
      .then((outcome) => {
        if (!outcome.ok && outcome.code !== 'session_not_found') context.log.warn({ code: outcome.code }, 'the signed-out account could not be removed from the account store');
      })
      .catch((error: unknown) => context.log.warn({ err: String(error) }, 'the signed-out account could not be removed from the account store'));
  }
  if (!deleted && target) context.log.info('another account was stored while signing out; it was kept');
  after(() => snapshot && context.notifier.authChanged(snapshot));
  return { snapshot, ...revocation };
}

interface Revocation {
  readonly revoked: boolean;
  readonly revokeError?: RevokeError;
  /** The record revoked (or that would have been); undefined when nothing was stored or nobody could look. */
  readonly target?: RevokeTarget | undefined;
  /** Whether the token service looked at the store (false: it failed). */
  readonly looked: boolean;
}

async function revoke(context: ServerContext, send: boolean, shownToPerson = false): Promise<Revocation> {
  const { config } = context;
  const outcome = await context.tokens
    .run('revoke', { store: context.storeOptions, issuer: config.auth_issuer, timeoutMs: config.revoke_timeout_secs * 1000, send })
    .catch((error: unknown) => ({ ok: false as const, code: 'revoke_unavailable', message: `the token service failed (${(error as Error).message})`, target: undefined, failed: true }));
  const looked = !('failed' in outcome);
  if (outcome.ok) return { revoked: outcome.revoked, target: outcome.target, looked };
  context.log[shownToPerson ? 'debug' : 'warn']({ code: outcome.code }, `failed to revoke the tokens during logout (${outcome.message}); removing the local credentials anyway`);
  return { revoked: false, revokeError: { code: outcome.code, message: outcome.message }, target: outcome.target, looked };
}
