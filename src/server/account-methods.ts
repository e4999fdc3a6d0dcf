/**
 * The v2 account API (codex app-server shapes), a thin adapter over the same auth state, login
 * engine and sign-in actions as the 0.25 methods. Calling any of them subscribes the client to
 * the v2 notifications (`account/login/completed`, `account/updated`).
 */
import { z } from 'zod';
import { AccountReadParamsSchema, type AccountReadResult } from '../protocol/account-wire.js';
import { invalidRequest } from '../protocol/jsonrpc.js';
import { method, type MethodSpec, type RequestContext } from '../rpc/dispatcher.js';
import { authStatusResult, refreshedStatus } from './auth-methods.js';
import { v2Account } from './account-shapes.js';
import type { ServerContext } from './context.js';
import { performLogout } from './logout.js';
import { signInWithApiKey, startChatGptSignIn, startDeviceCodeSignIn } from './sign-in.js';

export const AccountLoginStartParamsSchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('apiKey'), apiKey: z.string().min(1) }),
  z.object({ type: z.literal('chatgpt') }),
  z.object({ type: z.literal('chatgptDeviceCode') }),
]);
/** Any string: codex answers a loginId that is not a UUID with -32600 (below), not -32602. */
export const AccountLoginCancelParamsSchema = z.object({ loginId: z.string() });
const isUuid = (value: string) => z.uuid().safeParse(value).success;
const AnyParams = z.preprocess((v) => (v && typeof v === 'object' && !Array.isArray(v) ? v : {}), z.object({ revoke: z.boolean().optional() }));

export function accountMethods(context: ServerContext): Record<string, MethodSpec> {
  const { auth, logins, notifier } = context;
  /** Every account/* method subscribes the caller to the v2 notifications. */
  const v2 = <S extends z.ZodType>(schema: S, handle: (params: z.infer<S>, request: RequestContext) => unknown) =>
    method(schema, (params, request) => {
      notifier.subscribeAccountApi();
      return handle(params, request);
    });

  return {
    'account/read': v2(AccountReadParamsSchema, async ({ refreshToken }): Promise<AccountReadResult> => {
      const snapshot = await auth.ready.then(() => auth.current!);
      // The refresh path also reports authError (e.g. refresh_timeout); the account itself comes from the snapshot.
      const status = refreshToken && snapshot.authMethod === 'chatgpt' ? await refreshedStatus(context, false) : authStatusResult(snapshot, context, false);
      const current = auth.current!;
      // A ChatGPT record without tokens: 0.171 refuses the read with this very message.
      if (current.authError?.code === 'chatgpt_tokens_missing') throw invalidRequest('plan type is required for chatgpt authentication');
      const account = v2Account(current);
      return {
        account,
        userId: account?.type === 'chatgpt' ? (current.account?.userId ?? null) : null,
        requiresOpenaiAuth: true,
        workspaceRouting: null,
        ...(status.authError && { authError: status.authError }),
        ...(status.storage && { storage: status.storage }),
        ...(status.storageWarning && { storageWarning: status.storageWarning }),
      };
    }),

    'account/login/start': v2(AccountLoginStartParamsSchema, async (params, request) => {
      if (params.type === 'apiKey') {
        const snapshot = await signInWithApiKey(context, params.apiKey);
        request.afterResponse(() => {
          notifier.loginEnded({ loginId: null, success: true });
          notifier.authChanged(snapshot);
        });
        return { type: 'apiKey' };
      }
      if (params.type === 'chatgpt') {
        const { loginId, authUrl } = await startChatGptSignIn(context);
        request.afterResponse(() => logins.release(loginId));
        return { type: 'chatgpt', loginId, authUrl };
      }
      const { loginId, verificationUrl, userCode } = await startDeviceCodeSignIn(context);
      request.afterResponse(() => logins.release(loginId));
      return { type: 'chatgptDeviceCode', loginId, verificationUrl, userCode };
    }),

    'account/login/cancel': v2(AccountLoginCancelParamsSchema, async ({ loginId }) => {
      if (!isUuid(loginId)) throw invalidRequest(`invalid login id: ${loginId}`);
      return { status: (await logins.cancel(loginId)) ? 'canceled' : 'notFound' };
    }),

    'account/logout': v2(AnyParams, async ({ revoke }, request) => {
      const { snapshot, revoked, revokeError } = await performLogout(context, { revoke });
      request.afterResponse(() => notifier.authChanged(snapshot));
      return { revoked, ...(revokeError && { revokeError }) };
    }),
  };
}
