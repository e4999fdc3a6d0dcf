/** v1 `loginChatGpt` / `cancelLoginChatGpt`: thin adapters over the login engine. */
import { CancelLoginChatGptParamsSchema, LoginChatGptParamsSchema } from '../protocol/auth-wire.js';
import { invalidRequest } from '../protocol/jsonrpc.js';
import { method, type MethodSpec } from '../rpc/dispatcher.js';
import type { ServerContext } from './context.js';

export function loginMethods(context: ServerContext): Record<string, MethodSpec> {
  const { logins } = context;
  return {
    loginChatGpt: method(LoginChatGptParamsSchema, async (_params, request) => {
      const { loginId, authUrl } = await logins.startChatGpt();
      request.afterResponse(() => logins.release(loginId));
      return { loginId, authUrl };
    }),

    cancelLoginChatGpt: method(CancelLoginChatGptParamsSchema, async ({ loginId }) => {
      if (!(await logins.cancel(loginId))) throw invalidRequest(`login id not found: ${loginId}`);
      return {};
    }),
  };
}
