/**
 * The v2 account API (codex app-server 0.171 shapes), a thin adapter over the same auth state,
 * login engine and sign-in actions as the 0.25 methods. Calling any of them subscribes the client
 * to the v2 notifications (`account/login/completed`, `account/updated`): their entries in the wire
 * table say so (`opensAccountEvents`), and the method pipeline does it.
 */
import * as z from '../../protocol/zod.js';
import { invalidRequest } from '../../protocol/jsonrpc.js';
import type { MethodName } from '../../protocol/methods.js';
import { authStatusResult, refreshedStatus } from '../actions/status.js';
import { v2Account } from '../account-shapes.js';
import type { ServerContext, ServerHandlers } from '../context.js';
import { performLogout } from '../actions/logout.js';
import { codexHomeReport } from '../where-we-looked.js';
import { signInWithApiKey, startChatGptSignIn, startDeviceCodeSignIn } from '../actions/sign-in.js';

const isUuid = (value: string) => z.uuid().safeParse(value).success;

type AccountMethod = Extract<MethodName, `account/${string}`>;

export function accountMethods(context: ServerContext): ServerHandlers<AccountMethod> {
  const { auth, logins } = context;

  return {
    'account/read': async ({ refreshToken }) => {
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
        // Signed out: where we looked, as the tool and the status resource say it (an extra field).
        ...(account === null && { codexHome: codexHomeReport(context.codexHome, context.codexHomeSource) }),
      };
    },

    'account/login/start': async (params, request) => {
      if (params.type === 'apiKey') {
        await signInWithApiKey(context, params.apiKey, request.afterResponse);
        return { type: 'apiKey' };
      }
      if (params.type === 'chatgpt') {
        const { loginId, authUrl } = await startChatGptSignIn(context, request.afterResponse);
        return { type: 'chatgpt', loginId, authUrl };
      }
      const { loginId, verificationUrl, userCode } = await startDeviceCodeSignIn(context, request.afterResponse);
      return { type: 'chatgptDeviceCode', loginId, verificationUrl, userCode };
    },

    'account/login/cancel': async ({ loginId }) => {
      if (!isUuid(loginId)) throw invalidRequest(`invalid login id: ${loginId}`);
      return { status: (await logins.cancel(loginId)) ? 'canceled' : 'notFound' };
    },

    'account/logout': async ({ revoke }, request) => {
      const { revoked, revokeError } = await performLogout(context, { revoke }, request.afterResponse);
      return { revoked, ...(revokeError && { revokeError }) };
    },
  };
}
