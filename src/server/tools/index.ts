/**
 * Auth as MCP tools, so any generic MCP client (not only codex-aware ones) can see and change the
 * sign-in: `auth_status`, `login`, `logout`. Input schemas are generated from the same zod schemas
 * that validate the arguments.
 */
import * as z from '../../protocol/zod.js';
import { RpcError } from '../../protocol/jsonrpc.js';
import { NO_RESPONSE } from '../../rpc/dispatcher.js';
import type { InputRequiredResult, ToolCallParams, ToolResult, ToolsListResult } from '../../protocol/mcp-wire.js';
import { CHANGES_AUTH, CHANGES_LOGIN, NONE, READS_AUTH, type Access } from '../../protocol/methods.js';
import { accountTools } from './account.js';
import type { ServerContext, ServerHandlers } from '../context.js';
import type { InteractiveLogin, LoginCall } from './login.js';
import { performLogout } from '../actions/logout.js';
import { signInWithApiKey, type After } from '../actions/sign-in.js';
import { tool, type ToolCall } from './tool.js';
import { describeStatus, text, toolError as error } from './results.js';

// Strict, as the generated schemas say (additionalProperties: false): an unknown argument is named in the error.
const AuthStatusArgs = z.strictObject({}).register(z.globalRegistry, { description: 'No arguments.' });
const LoginArgs = z.strictObject({
  method: z.enum(['chatgpt', 'device_code', 'api_key']).register(z.globalRegistry, { description: 'How to sign in: a browser, a code entered on another device, or an API key.' }),
  apiKey: z.optional(z.string().check(z.minLength(1))).register(z.globalRegistry, { description: 'The API key, for method "api_key".' }),
});
const LogoutArgs = z.strictObject({
  revoke: z.optional(z.boolean()).register(z.globalRegistry, { description: 'Revoke the tokens at the issuer first (default: config logout_revokes_tokens). false only removes them here.' }),
});

const TOOLS = [
  tool({
    name: 'auth_status',
    title: 'Sign-in status',
    description: 'Shows whether you are signed in to OpenAI / ChatGPT, how, and any problem with the stored credentials.',
    args: AuthStatusArgs,
    annotations: { readOnlyHint: true, openWorldHint: false },
    access: () => READS_AUTH,
    run: async (_args, { context }) => describeStatus(await context.auth.ready.then(() => context.auth.current!), context),
  }),
  tool({
    name: 'login',
    title: 'Sign in',
    description: 'Signs in to OpenAI: asks you to open the sign-in page (chatgpt) or to enter a code on another device (device_code), or stores an API key (api_key).',
    args: LoginArgs,
    // It replaces whatever credentials are stored, and talks to the issuer.
    annotations: { readOnlyHint: false, destructiveHint: true, idempotentHint: false, openWorldHint: true },
    access: (args) => (args?.['method'] === 'api_key' ? CHANGES_AUTH : CHANGES_LOGIN),
    async run(args, { context, after, login }) {
      if (args.method === 'api_key') {
        if (!args.apiKey) return error('apiKey: required when method is "api_key"');
        await signInWithApiKey(context, args.apiKey, after);
        return text('Signed in with the API key.', { method: 'api_key' });
      }
      return login(args.method);
    },
  }),
  tool({
    name: 'logout',
    title: 'Sign out',
    description: 'Signs out: revokes the tokens at the issuer (unless revoke is false) and removes the stored OpenAI / ChatGPT credentials.',
    args: LogoutArgs,
    annotations: { readOnlyHint: false, destructiveHint: true, idempotentHint: true, openWorldHint: true },
    access: () => CHANGES_AUTH,
    async run(args, { context, after }) {
      const { snapshot, revoked, revokeError } = await performLogout(context, { revoke: args.revoke }, after);
      const summary = snapshot?.authMethod ? `Signed out here; ${snapshot.authMethod} credentials are still stored (${snapshot.storage}).` : 'Signed out.';
      const revocation = revoked ? ' The tokens were revoked at the issuer.' : revokeError ? ` The tokens could not be revoked at the issuer (${revokeError.message}); they were removed here.` : '';
      return text(`${summary}${revocation}`, { authMethod: snapshot?.authMethod ?? null, revoked, ...(revokeError && { revokeError }) });
    },
  }),
  ...accountTools,
];

/**
 * What a tools/call touches: its tool's. The retry of an interactive login (inputResponses /
 * requestState) only waits for the sign-in it started: holding later requests for that wait
 * would hold a cancel behind it.
 */
export function toolCallAccess({ name, arguments: args, ...rest }: ToolCallParams): Access | undefined {
  if ('inputResponses' in rest || 'requestState' in rest) return NONE;
  return TOOLS.find((t) => t.name === name)?.access(args);
}

/**
 * The fixed tool list, with JSON Schemas generated from the zod schemas at the first tools/list
 * (not at start: most clients of the 0.25 surface never ask) and kept; order fixed, as the modern
 * era asks.
 */
let list: ToolsListResult['tools'] | undefined;
export const toolList = (): ToolsListResult['tools'] => (list ??= TOOLS.map(({ name, title, description, args, annotations }) => {
  const { $schema: _ignored, ...inputSchema } = z.toJSONSchema(args) as Record<string, unknown>;
  return { name, title, description, inputSchema, annotations };
}));

/** How a legacy-era call can reach the person: set when the initialize handshake allows URL elicitation. */
export type LegacyElicit = LoginCall['elicit'];

export function toolMethods(context: ServerContext, interactive: InteractiveLogin, legacyElicit: () => LegacyElicit): ServerHandlers<'tools/call'> {
  return {
    'tools/call': async ({ name, arguments: args, inputResponses, requestState }, request) => {
      const found = TOOLS.find((t) => t.name === name);
      if (!found) return error(`Unknown tool '${name}'`);
      const parsed = found.args.safeParse(args ?? {});
      if (!parsed.success) {
        const issue = parsed.error.issues[0]!;
        return error(`${issue.path.join('.') || 'arguments'}: ${issue.message}`);
      }
      const { modern } = request;
      const after: After = (fn) => request.afterResponse(fn);
      const call: ToolCall = {
        context,
        after,
        login: (method) =>
          interactive.run({
            method,
            after,
            signal: request.signal,
            ...(modern ? { modern, inputResponses, requestState } : { elicit: legacyElicit() }),
          }),
      };
      let result: ToolResult | InputRequiredResult;
      try {
        result = await found.run(parsed.data, call);
      } catch (failure) {
        if (request.signal.aborted) return NO_RESPONSE;
        // Protocol errors of the modern era (-32602 state, -32021 capability) stay protocol errors.
        if (failure instanceof RpcError && modern && [-32602, -32021].includes(failure.code)) throw failure;
        // Tool failures are results the model can read, not protocol errors.
        return error(failure instanceof RpcError || failure instanceof Error ? failure.message : String(failure));
      }
      // MCP: a request the client cancelled SHOULD NOT be answered (a login retry it gave up on, say).
      return request.signal.aborted ? NO_RESPONSE : result;
    },
  };
}
