/**
 * `accounts list|switch|remove`: several signed-in accounts, for a person at a terminal. The same
 * actions as the accountSession/* methods and the tools (src/server/actions/accounts.ts); a switch
 * made here is seen by every running server on the same CODEX_HOME (their store watch).
 */
import type { LoadedConfig } from '../config/load.js';
import { RpcError } from '../protocol/jsonrpc.js';
import { findSession, listAccounts, removeAccount, switchAccount } from '../server/actions/accounts.js';
import { describeSessions } from '../server/tools/account.js';
import { atOnce } from '../server/actions/sign-in.js';
import { withRuntime } from './commands.js';

const out = (line: string) => process.stdout.write(`${line}\n`);

/** A refusal the person can act on is printed as one line and exit code 1, not a stack. */
async function refusalsToExit(fn: () => Promise<number>): Promise<number> {
  try {
    return await fn();
  } catch (error) {
    if (!(error instanceof RpcError)) throw error;
    process.stderr.write(`codex-auth-mcp: ${error.message}\n`);
    return 1;
  }
}

/** Exit 0 with at least one account, 1 with none. */
export function accountsListCommand(loaded: LoadedConfig, options: { json?: boolean }): Promise<number> {
  return withRuntime(loaded, ({ context }) =>
    refusalsToExit(async () => {
      const list = await listAccounts(context);
      out(options.json ? JSON.stringify(list, null, 2) : describeSessions(list));
      return list.sessions.length > 0 ? 0 : 1;
    }),
  );
}

export function accountsSwitchCommand(loaded: LoadedConfig, account: string, options: { workspace?: string }): Promise<number> {
  return withRuntime(loaded, ({ context }) =>
    refusalsToExit(async () => {
      const session = findSession(await listAccounts(context), account);
      // No browser here: an account that needs a new sign-in is said so (`codex-auth-mcp login`).
      const result = await switchAccount(context, { sessionId: session.sessionId, accountId: options.workspace }, atOnce);
      if ('authUrl' in result) return 1;
      out(`Active account: ${session.email ?? session.sessionId}.`);
      return 0;
    }),
  );
}

export function accountsRemoveCommand(loaded: LoadedConfig, account: string, options: { local?: boolean; keepTokens?: boolean }): Promise<number> {
  return withRuntime(loaded, ({ context }) =>
    refusalsToExit(async () => {
      const session = findSession(await listAccounts(context), account);
      const keep = options.local || options.keepTokens;
      const removed = await removeAccount(context, session.sessionId, { revoke: keep ? false : undefined }, atOnce);
      const { logout } = removed;
      if (logout) {
        out(`Signed out of ${session.email ?? session.sessionId}. No account is active now; \`codex-auth-mcp accounts switch\` makes another one active.`);
        if (logout.revokeError) process.stderr.write(`Warning: the tokens could not be revoked at the issuer (${logout.revokeError.message}); they were removed here.\n`);
      } else {
        out(`Removed ${session.email ?? session.sessionId}.${removed.revoked ? ' Its tokens were revoked at the issuer.' : ''}`);
        if (removed.revokeError) process.stderr.write(`Warning: the tokens could not be revoked at the issuer (${removed.revokeError.message}); they were removed here.\n`);
      }
      return 0;
    }),
  );
}
