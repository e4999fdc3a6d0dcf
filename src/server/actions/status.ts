/**
 * What "the sign-in status" is, in one place: `getAuthStatus`'s answer (the handler itself, which
 * methods/auth.ts hands the dispatcher as is, so no frame of a method group is on its path), and
 * the status the v2 account read, the status resource, the `auth_status` tool and the CLI's
 * `status` build from it.
 */
import type { AuthError, GetAuthStatusResult } from '../../protocol/auth-wire.js';
import { NEEDS_SIGN_IN, type AuthSnapshot, type RefreshFailureCode } from '../../protocol/snapshot.js';
import type { ServerContext, ServerHandlers } from '../context.js';

/** `getAuthStatus`'s handler: served straight from the cache; only requests in the first moments after start-up wait for it. */
export function authStatus(context: ServerContext): ServerHandlers<'getAuthStatus'>['getAuthStatus'] {
  const { auth } = context;
  return (params) => {
    const includeToken = params.includeToken === true;
    const answer = (snapshot: AuthSnapshot) =>
      params.refreshToken === true && snapshot.authMethod === 'chatgpt'
        ? refreshedStatus(context, includeToken)
        : authStatusResult(snapshot, context, includeToken);
    const snapshot = auth.current;
    return snapshot ? answer(snapshot) : auth.ready.then(answer);
  };
}

/** The 0.25 status answer for a snapshot: the token only when asked and usable, and every problem known about it. */
export function authStatusResult(
  snapshot: AuthSnapshot,
  context: ServerContext,
  includeToken: boolean,
  refreshError?: AuthError,
): GetAuthStatusResult {
  const result: GetAuthStatusResult = { preferredAuthMethod: context.config.preferred_auth_method };
  if (snapshot.authMethod) result.authMethod = snapshot.authMethod;
  // A refresh that failed for good ("needs sign-in") withholds the stored token; after a
  // transient failure or a timeout, a token that has not expired yet is still served.
  const overlay = context.refresher.statusOf(snapshot);
  // Refreshed tokens not yet written (a full disk) are the live ones: they are what is served.
  const shown = overlay.present ?? snapshot;
  const authError = snapshot.authError ?? overlay.error ?? refreshError ?? unverifiedError(context);
  const tokenUsable = !snapshot.authError && overlay.serveToken && !(refreshError && !overlay.present && context.refresher.hasExpired(shown));
  if (includeToken && shown.authToken && tokenUsable) result.authToken = shown.authToken;
  if (authError) result.authError = authError;
  // Where the credentials live is reported once a person chose keyring storage (the default,
  // file, keeps the 0.25 response exactly); a fallback or a leftover file is always reported.
  if (context.config.cli_auth_credentials_store !== 'file') result.storage = snapshot.storage;
  if (snapshot.storageWarning) result.storageWarning = snapshot.storageWarning;
  return result;
}

/** The cache could not be brought up to date: say so rather than pass off an old state as current. */
function unverifiedError(context: ServerContext): AuthError | undefined {
  const why = context.auth.unverifiedBecause;
  return why ? { code: 'status_unverified', message: `The stored credentials could not be read again: ${why}. This status may be out of date.` } : undefined;
}

/** Outcomes that make a refresh moot rather than failed: the answer is simply the current state. */
const MOOT: ReadonlySet<RefreshFailureCode> = new Set(['not_chatgpt', 'credentials_changed']);

/**
 * `getAuthStatus {refreshToken: true}`: waits for a refresh, never longer than
 * refresh_timeout_secs. On timeout the refresh itself goes on in the token service and its result
 * is still stored; this answer carries `authError.code = "refresh_timeout"`.
 */
export async function refreshedStatus(context: ServerContext, includeToken: boolean): Promise<GetAuthStatusResult> {
  const { auth, refresher, config } = context;
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<'timeout'>((resolve) => {
    timer = setTimeout(() => resolve('timeout'), config.refresh_timeout_secs * 1000);
  });
  const outcome = await Promise.race([refresher.refresh(true), timedOut]).finally(() => clearTimeout(timer));
  const snapshot = auth.current!;
  if (outcome === 'timeout') {
    return authStatusResult(snapshot, context, includeToken, {
      code: 'refresh_timeout',
      message: `The token refresh did not finish within ${config.refresh_timeout_secs} s; it goes on in the background.`,
    });
  }
  // "Needs sign-in" failures are remembered against their record and shown by the overlay.
  const reported = !outcome.ok && !NEEDS_SIGN_IN.has(outcome.code) && !MOOT.has(outcome.code);
  return authStatusResult(snapshot, context, includeToken, reported ? { code: outcome.code, message: outcome.message } : undefined);
}
