/** The 0.25 auth methods: `getAuthStatus` is the status action itself (actions/status.ts); logout is the shared action. */
import type { ServerContext, ServerHandlers } from '../context.js';
import { performLogout } from '../actions/logout.js';
import { authStatus } from '../actions/status.js';

export function authMethods(context: ServerContext): ServerHandlers<'getAuthStatus' | 'logoutChatGpt'> {
  return {
    getAuthStatus: authStatus(context),

    logoutChatGpt: async ({ revoke }, request) => {
      const { revoked, revokeError } = await performLogout(context, { revoke }, request.afterResponse);
      // `revoked` and `revokeError` are extra fields: clients that expect 0.25's `{}` ignore them.
      return { revoked, ...(revokeError && { revokeError }) };
    },
  };
}
