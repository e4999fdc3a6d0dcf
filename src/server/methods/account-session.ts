/**
 * `accountSession/list` and `accountSession/switch` (Codex 0.171's experimental account
 * sessions), thin adapters over the shared actions (actions/accounts.ts). Like every v2 method,
 * calling one subscribes the caller to the v2 notifications (the method pipeline does it).
 */
import type { ServerContext, ServerHandlers } from '../context.js';
import { listAccounts, switchAccount } from '../actions/accounts.js';

export function accountSessionMethods(context: ServerContext): ServerHandlers<'accountSession/list' | 'accountSession/switch'> {
  return {
    'accountSession/list': async () => listAccounts(context),
    'accountSession/switch': async ({ sessionId, accountId, allowBrowserLogin }, request) =>
      switchAccount(context, { sessionId, accountId, allowBrowserLogin }, request.afterResponse),
  };
}
