/**
 * Which state each method of the wire table reads or changes, so that one client's answers fit
 * the order of its requests (src/rpc/request-order.ts). Two states: "auth" (the credentials in
 * force, which status reads and sign-in or logout change) and "login" (the pending sign-in, which
 * starting, cancelling or superseding a login changes). Every method is listed: a new one does
 * not compile until it says what it touches.
 */
import type * as z from '../protocol/zod.js';
import type { MethodName, ServerMethods } from '../protocol/methods.js';
import type { Access } from '../rpc/request-order.js';
import type { HandlersFor } from '../rpc/dispatcher.js';
import { RequestOrder } from '../rpc/request-order.js';

const NONE: Access | undefined = undefined;
const READS_AUTH: Access = { reads: ['auth'] };
/**
 * A status that refreshes the tokens first (`refreshToken: true`) reports the state as of the end
 * of that refresh, which may take up to refresh_timeout_secs: it waits for earlier changes, and
 * later ones go ahead without it (a logout during a hung refresh is not held back).
 */
const REFRESHES_THEN_READS_AUTH: Access = { reads: ['auth'], holdsLater: false };
const statusRead = (params: { refreshToken?: boolean | null | undefined }) => (params.refreshToken === true ? REFRESHES_THEN_READS_AUTH : READS_AUTH);
/** A sign-in stored at once or a logout: both also end a pending login. */
const CHANGES_AUTH: Access = { writes: ['auth', 'login'] };
/** Starting or cancelling a browser or device-code sign-in: the credentials change later, when it completes. */
const CHANGES_LOGIN: Access = { writes: ['login'] };

type AccessOf<M extends MethodName> = Access | undefined | ((params: z.infer<ServerMethods[M]['params']>) => Access | undefined);

// A Map, not an object: tool names come from the model, and `constructor` or `__proto__` must
// find nothing (an object literal would hand out Object.prototype's members).
const TOOL_ACCESS = new Map<string, (args: Record<string, unknown> | undefined) => Access | undefined>(Object.entries({
  auth_status: () => READS_AUTH,
  login: (args) => (args?.['method'] === 'api_key' ? CHANGES_AUTH : CHANGES_LOGIN),
  logout: () => CHANGES_AUTH,
  list_accounts: () => READS_AUTH,
  switch_account: () => CHANGES_AUTH,
}));

export const METHOD_ACCESS: { readonly [M in MethodName]: AccessOf<M> } = {
  initialize: NONE,
  ping: NONE,
  'logging/setLevel': NONE,
  'server/discover': NONE,
  'tools/list': NONE,
  // The retry of an interactive login (inputResponses / requestState) only waits for the sign-in
  // it started: holding later requests for that wait would hold a cancel behind it.
  'tools/call': ({ name, arguments: args, ...rest }) =>
    'inputResponses' in rest || 'requestState' in rest ? NONE : TOOL_ACCESS.get(name)?.(args),
  'resources/list': NONE,
  'resources/templates/list': NONE,
  'resources/read': READS_AUTH,
  'resources/subscribe': NONE,
  'resources/unsubscribe': NONE,
  // A stream that lives as long as the client wants: it orders nothing.
  'subscriptions/listen': NONE,
  'prompts/list': NONE,
  getAuthStatus: statusRead,
  loginChatGpt: CHANGES_LOGIN,
  cancelLoginChatGpt: CHANGES_LOGIN,
  loginApiKey: CHANGES_AUTH,
  logoutChatGpt: CHANGES_AUTH,
  'account/read': statusRead,
  'account/login/start': (params) => (params.type === 'apiKey' ? CHANGES_AUTH : CHANGES_LOGIN),
  'account/login/cancel': CHANGES_LOGIN,
  'account/logout': CHANGES_AUTH,
  'accountSession/list': READS_AUTH,
  // A switch changes the account in force (and may start a sign-in, which ends a pending one).
  'accountSession/switch': CHANGES_AUTH,
};

/**
 * Wraps every handler so it runs once the earlier requests it conflicts with have finished
 * (at once, and synchronously, when there are none).
 */
export function inRequestOrder<K extends MethodName>(handlers: HandlersFor<ServerMethods, K>): HandlersFor<ServerMethods, K> {
  const order = new RequestOrder();
  const ordered = {} as HandlersFor<ServerMethods, K>;
  for (const name of Object.keys(handlers) as K[]) {
    const handler = handlers[name] as (params: unknown, request: unknown) => unknown;
    const access = METHOD_ACCESS[name] as Access | undefined | ((params: unknown) => Access | undefined);
    (ordered as Record<string, unknown>)[name] = (params: unknown, request: unknown) =>
      order.run(typeof access === 'function' ? access(params) : access, () => handler(params, request));
  }
  return ordered;
}
