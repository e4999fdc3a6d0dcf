/** The 0.25 auth methods: thin adapters from the wire onto the auth state and the login engine. */
import {
  GetAuthStatusParamsSchema,
  LogoutParamsSchema,
  type GetAuthStatusResult,
} from '../protocol/auth-wire.js';
import type { AuthSnapshot } from '../protocol/snapshot.js';
import { method, type MethodSpec } from '../rpc/dispatcher.js';
import type { ServerContext } from './context.js';
import { performLogout } from './logout.js';

export function authStatusResult(
  snapshot: AuthSnapshot,
  context: ServerContext,
  includeToken: boolean,
): GetAuthStatusResult {
  const result: GetAuthStatusResult = { preferredAuthMethod: context.config.preferred_auth_method };
  if (snapshot.authMethod) result.authMethod = snapshot.authMethod;
  if (includeToken && snapshot.authToken && !snapshot.authError) result.authToken = snapshot.authToken;
  if (snapshot.authError) result.authError = snapshot.authError;
  return result;
}

export function authMethods(context: ServerContext): Record<string, MethodSpec> {
  const { auth } = context;
  return {
    getAuthStatus: method(GetAuthStatusParamsSchema, (params) => {
      const includeToken = params.includeToken === true;
      const snapshot = auth.current;
      // Served straight from the cache; only the first requests after start-up may wait for it.
      if (snapshot) return authStatusResult(snapshot, context, includeToken);
      return auth.ready.then((ready) => authStatusResult(ready, context, includeToken));
    }),

    logoutChatGpt: method(LogoutParamsSchema, async (_params, request) => {
      const { snapshot } = await performLogout(context);
      request.afterResponse(() => context.notifier.authStatusChange(snapshot.authMethod));
      return {};
    }),
  };
}
