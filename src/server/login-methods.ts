/** v1 `loginChatGpt` / `cancelLoginChatGpt` / `loginApiKey`: thin adapters over the shared sign-in actions. */
import {
  CancelLoginChatGptParamsSchema,
  LoginApiKeyParamsSchema,
  LoginChatGptParamsSchema,
  type LoginChatGptResult,
} from '../protocol/auth-wire.js';
import { invalidRequest } from '../protocol/jsonrpc.js';
import { method, type MethodSpec } from '../rpc/dispatcher.js';
import type { ServerContext } from './context.js';
import { signInWithApiKey, startChatGptSignIn } from './sign-in.js';

export function loginMethods(context: ServerContext): Record<string, MethodSpec> {
  const { logins, notifier } = context;
  return {
    loginChatGpt: method(LoginChatGptParamsSchema, async (_params, request): Promise<LoginChatGptResult> => {
      const { loginId, authUrl } = await startChatGptSignIn(context);
      request.afterResponse(() => logins.release(loginId));
      return { loginId, authUrl };
    }),

    cancelLoginChatGpt: method(CancelLoginChatGptParamsSchema, async ({ loginId }) => {
      if (!(await logins.cancel(loginId))) throw invalidRequest(`login id not found: ${loginId}`);
      return {};
    }),

    loginApiKey: method(LoginApiKeyParamsSchema, async ({ apiKey }, request) => {
      const snapshot = await signInWithApiKey(context, apiKey);
      request.afterResponse(() => {
        notifier.loginEnded({ loginId: null, success: true });
        notifier.authChanged(snapshot);
      });
      return {};
    }),
  };
}
