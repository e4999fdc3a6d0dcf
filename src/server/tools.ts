/**
 * Auth as MCP tools, so any generic MCP client (not only codex-aware ones) can see and change the
 * sign-in: `auth_status`, `login`, `logout`. Input schemas are generated from the same zod schemas
 * that validate the arguments.
 */
import { z } from 'zod';
import { RpcError } from '../protocol/jsonrpc.js';
import type { ToolResult, ToolsListResult } from '../protocol/mcp-wire.js';
import type { AuthSnapshot } from '../protocol/snapshot.js';
import { v2Account } from './account-shapes.js';
import { accountTools } from './account-tools.js';
import { authStatusResult } from './auth-methods.js';
import type { ServerContext, ServerHandlers } from './context.js';
import { performLogout } from './logout.js';
import { DEVICE_CODE_WARNING, signInWithApiKey, startChatGptSignIn, startDeviceCodeSignIn } from './sign-in.js';

// Strict, as the generated schemas say (additionalProperties: false): an unknown argument is named in the error.
const AuthStatusArgs = z.strictObject({}).describe('No arguments.');
const LoginArgs = z.strictObject({
  method: z.enum(['chatgpt', 'device_code', 'api_key']).describe('How to sign in: a browser, a code entered on another device, or an API key.'),
  apiKey: z.string().min(1).optional().describe('The API key, for method "api_key".'),
});
const LogoutArgs = z.strictObject({
  revoke: z.boolean().optional().describe('Revoke the tokens at the issuer first (default: config logout_revokes_tokens). false only removes them here.'),
});

interface Tool<S extends z.ZodType> {
  readonly name: string;
  readonly title: string;
  readonly description: string;
  readonly args: S;
  run(args: z.infer<S>, context: ServerContext, after: (fn: () => void) => void): Promise<ToolResult>;
}

const tool = <S extends z.ZodType>(definition: Tool<S>) => definition;

const text = (message: string, structured?: Record<string, unknown>): ToolResult => ({
  content: [{ type: 'text', text: message }],
  ...(structured && { structuredContent: structured }),
});

const error = (message: string): ToolResult => ({ content: [{ type: 'text', text: message }], isError: true });

function describeStatus(snapshot: AuthSnapshot, context: ServerContext) {
  const status = authStatusResult(snapshot, context, false);
  const account = v2Account(snapshot);
  const summary =
    account === null
      ? 'Signed out.'
      : account.type === 'apiKey'
        ? 'Signed in with an OpenAI API key.'
        : `Signed in with ChatGPT as ${account.email ?? 'an unknown email'} (plan: ${account.planType}).`;
  const problem = status.authError ? ` Problem: ${status.authError.message}` : '';
  return text(`${summary}${problem}`, { ...status, account });
}

const TOOLS = [
  tool({
    name: 'auth_status',
    title: 'Sign-in status',
    description: 'Shows whether you are signed in to OpenAI / ChatGPT, how, and any problem with the stored credentials.',
    args: AuthStatusArgs,
    run: async (_args, context) => describeStatus(await context.auth.ready.then(() => context.auth.current!), context),
  }),
  tool({
    name: 'login',
    title: 'Sign in',
    description: 'Signs in to OpenAI: returns a URL to open (chatgpt), a code to enter on another device (device_code), or stores an API key (api_key).',
    args: LoginArgs,
    async run(args, context, after) {
      if (args.method === 'api_key') {
        if (!args.apiKey) return error('apiKey: required when method is "api_key"');
        await signInWithApiKey(context, args.apiKey, after);
        return text('Signed in with the API key.', { method: 'api_key' });
      }
      if (args.method === 'chatgpt') {
        const { loginId, authUrl } = await startChatGptSignIn(context, after);
        return text(`Open this URL in a browser to sign in with ChatGPT:\n${authUrl}`, { method: 'chatgpt', loginId, authUrl });
      }
      const { loginId, verificationUrl, userCode } = await startDeviceCodeSignIn(context, after);
      return text(`Open ${verificationUrl} on any device and enter the code ${userCode}.\n${DEVICE_CODE_WARNING}`, { method: 'device_code', loginId, verificationUrl, userCode });
    },
  }),
  tool({
    name: 'logout',
    title: 'Sign out',
    description: 'Signs out: revokes the tokens at the issuer (unless revoke is false) and removes the stored OpenAI / ChatGPT credentials.',
    args: LogoutArgs,
    async run(args, context, after) {
      const { snapshot, revoked, revokeError } = await performLogout(context, { revoke: args.revoke }, after);
      const summary = snapshot?.authMethod ? `Signed out here; ${snapshot.authMethod} credentials are still stored (${snapshot.storage}).` : 'Signed out.';
      const revocation = revoked ? ' The tokens were revoked at the issuer.' : revokeError ? ` The tokens could not be revoked at the issuer (${revokeError.message}); they were removed here.` : '';
      return text(`${summary}${revocation}`, { authMethod: snapshot?.authMethod ?? null, revoked, ...(revokeError && { revokeError }) });
    },
  }),
  ...accountTools.map((definition) => tool<z.ZodType>(definition as unknown as Tool<z.ZodType>)),
];

/** The fixed tool list, with JSON Schemas generated once from the zod schemas. */
export const toolList = (): ToolsListResult['tools'] => LIST;
const LIST = TOOLS.map(({ name, title, description, args }) => {
  const { $schema: _ignored, ...inputSchema } = z.toJSONSchema(args) as Record<string, unknown>;
  return { name, title, description, inputSchema };
});

export function toolMethods(context: ServerContext): ServerHandlers<'tools/call'> {
  return {
    'tools/call': async ({ name, arguments: args }, request): Promise<ToolResult> => {
      const found = TOOLS.find((t) => t.name === name);
      if (!found) return error(`Unknown tool '${name}'`);
      const parsed = found.args.safeParse(args ?? {});
      if (!parsed.success) {
        const issue = parsed.error.issues[0]!;
        return error(`${issue.path.join('.') || 'arguments'}: ${issue.message}`);
      }
      try {
        return await (found as Tool<z.ZodType>).run(parsed.data, context, (fn) => request.afterResponse(fn));
      } catch (failure) {
        // Tool failures are results the model can read, not protocol errors.
        return error(failure instanceof RpcError || failure instanceof Error ? failure.message : String(failure));
      }
    },
  };
}
