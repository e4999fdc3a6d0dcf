/**
 * Several accounts as MCP tools: `list_accounts` and `switch_account` (index.ts lists them with
 * the others). Their text never holds a token: it is built from the token-free session list.
 */
import * as z from '../../protocol/zod.js';
import type { AccountSessionsResponse } from '../../protocol/account-wire.js';
import type { ToolResult } from '../../protocol/mcp-wire.js';
import { CHANGES_AUTH, READS_AUTH } from '../../protocol/methods.js';
import { findSession, listAccounts, switchAccount } from '../actions/accounts.js';
import { tool } from './tool.js';
import { text } from './results.js';

const ListAccountsArgs = z.strictObject({}).register(z.globalRegistry, { description: 'No arguments.' });
const SwitchAccountArgs = z.strictObject({
  account: z.string().check(z.minLength(1)).register(z.globalRegistry, { description: 'The session id (from list_accounts) or the email of the account to make active.' }),
  workspaceId: z.optional(z.string().check(z.minLength(1))).register(z.globalRegistry, { description: 'The workspace (accountId from list_accounts) to use; default: the one the session is signed in to.' }),
  allowBrowserLogin: z.optional(z.boolean()).register(z.globalRegistry, { description: 'If the account needs a new sign-in, start one and return its URL (default false: say so instead).' }),
});

/** One line per account, for a model or a person to read. */
export function describeSessions(list: AccountSessionsResponse): string {
  if (list.sessions.length === 0) return 'No accounts are signed in.';
  return list.sessions
    .map((session) => {
      const when = new Date(session.lastUsedAt * 1000).toISOString();
      const state = session.isActive ? 'active' : session.needsSignIn ? 'needs a new sign-in' : 'signed in';
      return `${session.isActive ? '*' : '-'} ${session.email ?? '(no email)'} — plan ${session.planType ?? 'unknown'}, ${state}, last used ${when} (session ${session.sessionId})`;
    })
    .join('\n');
}

export const accountTools = [
  tool({
    name: 'list_accounts',
    title: 'Signed-in accounts',
    description: 'Lists every ChatGPT account signed in here (email, plan, which one is active, when each was last used). Never shows a token.',
    args: ListAccountsArgs,
    annotations: { readOnlyHint: true, openWorldHint: false },
    access: () => READS_AUTH,
    async run(_args, { context }): Promise<ToolResult> {
      const list = await listAccounts(context);
      return text(describeSessions(list), list as unknown as Record<string, unknown>);
    },
  }),
  tool({
    name: 'switch_account',
    title: 'Switch account',
    description: 'Makes another signed-in ChatGPT account the active one, without signing in again (the current one stays signed in).',
    args: SwitchAccountArgs,
    // It may refresh the new account's tokens at the issuer first.
    annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: true, openWorldHint: true },
    access: () => CHANGES_AUTH,
    async run(args, { context, after }): Promise<ToolResult> {
      const session = findSession(await listAccounts(context), args.account);
      const result = await switchAccount(context, { sessionId: session.sessionId, accountId: args.workspaceId, allowBrowserLogin: args.allowBrowserLogin }, after);
      if ('authUrl' in result) return text(`${session.email ?? 'That account'} needs a new sign-in. Open this URL in a browser:\n${result.authUrl}`, { ...result });
      return text(`Active account: ${session.email ?? session.sessionId}.\n${describeSessions(result)}`, result as unknown as Record<string, unknown>);
    },
  }),
];
