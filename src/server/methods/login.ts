/** v1 `loginChatGpt` / `cancelLoginChatGpt` / `loginApiKey`: thin adapters over the shared sign-in actions. */
import { invalidRequest } from '../../protocol/jsonrpc.js';
import type { ServerContext, ServerHandlers } from '../context.js';
import { signInWithApiKey, startChatGptSignIn } from '../actions/sign-in.js';

export function loginMethods(context: ServerContext): ServerHandlers<'loginChatGpt' | 'cancelLoginChatGpt' | 'loginApiKey'> {
  const { logins } = context;
  return {
    loginChatGpt: async (_params, request) => {
      const { loginId, authUrl } = await startChatGptSignIn(context, request.afterResponse);
      return { loginId, authUrl };
    },

    cancelLoginChatGpt: async ({ loginId }) => {
      if (!(await logins.cancel(loginId))) throw invalidRequest(`login id not found: ${loginId}`);
      return {};
    },

    loginApiKey: async ({ apiKey }, request) => {
      await signInWithApiKey(context, apiKey, request.afterResponse);
      return {};
    },
  };
}
