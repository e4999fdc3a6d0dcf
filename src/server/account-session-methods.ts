/**
 * `accountSession/list` and `accountSession/switch` (Codex 0.171's experimental account
 * sessions), thin adapters over the shared actions (account-sessions.ts). Like every v2 method,
 * calling one subscribes the caller to the v2 notifications.
 */
import type { ServerContext, ServerHandlers } from './context.js';
import { listAccounts, switchAccount } from './account-sessions.js';

export function accountSessionMethods(context: ServerContext): ServerHandlers<'accountSession/list' | 'accountSession/switch'> {
  return {
    'accountSession/list': async () => {
      context.notifier.subscribeAccountApi();
      return listAccounts(context);
    },
    'accountSession/switch': async ({ sessionId, accountId, allowBrowserLogin }, request) => {
      context.notifier.subscribeAccountApi();
      return switchAccount(context, { sessionId, accountId, allowBrowserLogin }, request.afterResponse);
    },
  };
}
