/** What the tools answer with: text for the person, structuredContent for programs. */
import type { ToolResult } from '../../protocol/mcp-wire.js';
import type { AuthSnapshot } from '../../protocol/snapshot.js';
import { v2Account } from '../account-shapes.js';
import { authStatusResult } from '../actions/status.js';
import type { ServerContext } from '../context.js';
import { codexHomeReport, signedOutAdvice } from '../where-we-looked.js';

export const text = (message: string, structured?: Record<string, unknown>): ToolResult => ({
  content: [{ type: 'text', text: message }],
  ...(structured && { structuredContent: structured }),
});

export const toolError = (message: string): ToolResult => ({ content: [{ type: 'text', text: message }], isError: true });

export function describeStatus(snapshot: AuthSnapshot, context: ServerContext): ToolResult {
  const status = authStatusResult(snapshot, context, false);
  const account = v2Account(snapshot);
  const summary =
    account === null
      ? 'Signed out.'
      : account.type === 'apiKey'
        ? 'Signed in with an OpenAI API key.'
        : `Signed in with ChatGPT as ${account.email ?? 'an unknown email'} (plan: ${account.planType}).`;
  const problem = status.authError ? ` Problem: ${status.authError.message}` : '';
  // Signed out: say where we looked, so a CODEX_HOME the client did not pass is found out at once.
  const codexHome = codexHomeReport(context.codexHome, context.codexHomeSource);
  const advice = account === null && !status.authError ? ` ${signedOutAdvice(codexHome, 'client')}` : '';
  return text(`${summary}${problem}${advice}`, { ...status, account, codexHome });
}
