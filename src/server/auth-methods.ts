/** The 0.25 auth methods: thin adapters from the wire onto the auth state and the login engine. */
import {
  GetAuthStatusParamsSchema,
  LogoutParamsSchema,
  type AuthError,
  type GetAuthStatusResult,
  type LogoutResult,
} from '../protocol/auth-wire.js';
import type { AuthSnapshot } from '../protocol/snapshot.js';
import { method, type MethodSpec } from '../rpc/dispatcher.js';
import type { ServerContext } from './context.js';
import { performLogout } from './logout.js';

export function authStatusResult(
  snapshot: AuthSnapshot,
  context: ServerContext,
  includeToken: boolean,
  refreshError?: AuthError,
): GetAuthStatusResult {
  const result: GetAuthStatusResult = { preferredAuthMethod: context.config.preferred_auth_method };
  if (snapshot.authMethod) result.authMethod = snapshot.authMethod;
  // A refresh that failed for good means the stored token must not be handed out any more; after
  // a transient failure or a timeout, a token that has not expired yet is still served.
  const permanentError = snapshot.authError ?? context.refresher.authErrorFor(snapshot);
  const authError = permanentError ?? refreshError;
  const tokenUsable = !permanentError && !(refreshError && isExpired(snapshot));
  if (includeToken && snapshot.authToken && tokenUsable) result.authToken = snapshot.authToken;
  if (authError) result.authError = authError;
  // Where the credentials live is reported once a person chose keyring storage (the default,
  // file, keeps the 0.25 response exactly); a fallback or a leftover file is always reported.
  if (context.config.cli_auth_credentials_store !== 'file') result.storage = snapshot.storage;
  if (snapshot.storageWarning) result.storageWarning = snapshot.storageWarning;
  return result;
}

const isExpired = (snapshot: AuthSnapshot) =>
  snapshot.accessTokenExpiresAt !== undefined && snapshot.accessTokenExpiresAt <= Date.now();

/** `getAuthStatus {refreshToken: true}`: waits for a refresh, but never longer than refresh_timeout_secs. */
export async function refreshedStatus(context: ServerContext, includeToken: boolean): Promise<GetAuthStatusResult> {
  const { auth, refresher, config } = context;
  const timeoutMs = config.refresh_timeout_secs * 1000;
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<'timeout'>((resolve) => {
    timer = setTimeout(() => resolve('timeout'), timeoutMs);
  });
  // The refresh itself keeps going in the token service; its result is still stored.
  const outcome = await Promise.race([refresher.refresh(true), timedOut]).finally(() => clearTimeout(timer));
  const snapshot = auth.current!;
  if (outcome === 'timeout') {
    return authStatusResult(snapshot, context, includeToken, {
      code: 'refresh_timeout',
      message: `The token refresh did not finish within ${config.refresh_timeout_secs} s; it goes on in the background.`,
    });
  }
  const transient = !outcome.ok && !outcome.permanent ? { code: outcome.code, message: outcome.message } : undefined;
  return authStatusResult(snapshot, context, includeToken, transient);
}

export function authMethods(context: ServerContext): Record<string, MethodSpec> {
  const { auth } = context;
  return {
    getAuthStatus: method(GetAuthStatusParamsSchema, (params) => {
      const includeToken = params.includeToken === true;
      const answer = (snapshot: AuthSnapshot) =>
        params.refreshToken === true && snapshot.authMethod === 'chatgpt'
          ? refreshedStatus(context, includeToken)
          : authStatusResult(snapshot, context, includeToken);
      // Served straight from the cache; only requests in the first moments after start-up wait for it.
      const snapshot = auth.current;
      return snapshot ? answer(snapshot) : auth.ready.then(answer);
    }),

    logoutChatGpt: method(LogoutParamsSchema, async ({ revoke }, request): Promise<LogoutResult> => {
      const { snapshot, revoked } = await performLogout(context, { revoke });
      request.afterResponse(() => context.notifier.authChanged(snapshot));
      // `revoked` is an extra field: clients that expect 0.25's `{}` ignore it.
      return { revoked };
    }),
  };
}
