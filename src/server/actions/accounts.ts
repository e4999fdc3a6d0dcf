/**
 * Several accounts, the actions every front end shares (accountSession/* methods, the MCP tools,
 * the CLI): list, switch, remove. The work happens in the token service (it decodes tokens and
 * may refresh, which the main thread never does); here are the policy and the announcements.
 *
 * A switch is a change of our own (AuthState.mutate), announced after the answer like a sign-in
 * (`codex/event/auth_status_change`, `account/updated`); every other server on the same
 * CODEX_HOME sees the store change through its watch and announces it too (AuthState).
 */
import type { AccountSessionsResponse, AccountSessionsSwitchResult } from '../../protocol/account-wire.js';
import { internalError, invalidRequest } from '../../protocol/jsonrpc.js';
import type { SessionOutcome } from '../../protocol/token-service-tasks.js';
import type { ServerContext } from '../context.js';
import { performLogout, type LogoutOutcome } from './logout.js';
import { startChatGptSignIn, type After } from './sign-in.js';

type Failure = SessionOutcome & { ok: false };

/** A failure the caller can act on is an invalid request naming what to do; the rest are internal. */
function refusal(failure: Failure): Error {
  return failure.code === 'vault_unavailable' ? internalError(failure.message) : invalidRequest(failure.message);
}

export async function listAccounts(context: ServerContext): Promise<AccountSessionsResponse> {
  const outcome = await context.tokens.run('listSessions', { store: context.storeOptions, restrictions: context.restrictions });
  if (!outcome.ok) throw refusal(outcome);
  return outcome.sessions;
}

export interface SwitchRequest {
  readonly sessionId: string;
  /** The workspace; absent: the one the session is signed in to. */
  readonly accountId?: string | undefined;
  readonly allowBrowserLogin?: boolean | undefined;
}

export async function switchAccount(context: ServerContext, request: SwitchRequest, after: After): Promise<AccountSessionsSwitchResult> {
  const { auth, tokens, config, storeOptions } = context;
  const accountId = request.accountId ?? (await selectedWorkspaceOf(context, request.sessionId));
  // Tokens of the target held unsaved are its live ones: written first, or the switch waits.
  if (!(await context.inactiveSessions.flushHeld()) && context.inactiveSessions.isHeld(request.sessionId)) {
    throw internalError("that account's refreshed tokens could not be saved yet (see the server log); nothing was changed, try again");
  }
  let outcome: SessionOutcome | undefined;
  // A refresh of ours in flight writes its rotated tokens first: the switch then moves those (the
  // live ones) into the account store, never the spent ones it would otherwise still find.
  const snapshot = await context.refresher.afterRefreshes(() =>
    auth.mutate(async () => {
      outcome = await tokens.run('switchSession', { store: storeOptions, restrictions: context.restrictions, issuer: config.auth_issuer, sessionId: request.sessionId, accountId });
    }),
  );
  if (!outcome!.ok) {
    const failure = outcome as Failure;
    if (failure.unsaved) context.inactiveSessions.hold([failure.unsaved]);
    const signIn = failure.code === 'session_needs_sign_in' || failure.code === 'workspace_needs_sign_in';
    if (!signIn) throw refusal(failure);
    if (!request.allowBrowserLogin) throw invalidRequest(`${failure.message}; pass allowBrowserLogin: true to start that sign-in`);
    // The sign-in replaces that session's tokens and makes it active (workers/shared/account-sessions.ts).
    const { loginId, authUrl } = await startChatGptSignIn(context, after, {
      ...(failure.email && { loginHint: failure.email }),
      ...(failure.code === 'workspace_needs_sign_in' && failure.workspaceId && { allowedWorkspaceId: failure.workspaceId }),
    });
    return { loginId, authUrl };
  }
  if (outcome!.changed) after(() => snapshot && context.notifier.authChanged(snapshot));
  return outcome!.sessions;
}

async function selectedWorkspaceOf(context: ServerContext, sessionId: string): Promise<string> {
  const { sessions } = await listAccounts(context);
  const session = sessions.find((s) => s.sessionId === sessionId);
  if (!session) throw invalidRequest(`no signed-in account has the session id ${sessionId}`);
  return session.selectedWorkspaceAccountId ?? '';
}

export interface RemoveOutcome {
  readonly sessions: AccountSessionsResponse;
  /** Set when the session removed was the active one: it was signed out, and no other was made active. */
  readonly logout?: LogoutOutcome;
  /** An inactive session removed: whether the issuer confirmed the revocation of its tokens, and why not. */
  readonly revoked?: boolean;
  readonly revokeError?: { code: string; message: string };
}

/**
 * Removes one session. An inactive one: its tokens are deleted from the vault and revoked at the
 * issuer (best effort, as a logout; `revoke: false` keeps them live there). The active one is
 * signed out (the logout path, revoking as configured), and no other session becomes active by
 * itself: silently handing the person another account would be a surprise; they switch to one.
 */
export async function removeAccount(context: ServerContext, sessionId: string, options: { revoke?: boolean | undefined }, after: After): Promise<RemoveOutcome> {
  const { config } = context;
  const revoking = options.revoke ?? config.logout_revokes_tokens;
  const outcome = await context.tokens.run('removeSession', {
    store: context.storeOptions,
    restrictions: context.restrictions,
    sessionId,
    ...(revoking && { revokeAt: config.auth_issuer, revokeTimeoutMs: config.revoke_timeout_secs * 1000 }),
  });
  if (!outcome.ok) throw refusal(outcome);
  if (!outcome.wasActive) {
    if (outcome.revokeError) context.log.warn({ code: outcome.revokeError.code }, `failed to revoke the removed account's tokens (${outcome.revokeError.message}); they were removed here`);
    return { sessions: outcome.sessions, revoked: outcome.revoked ?? false, ...(outcome.revokeError && { revokeError: outcome.revokeError }) };
  }
  const logout = await performLogout(context, options, after);
  return { sessions: await listAccounts(context), logout };
}

/** A session named by its id or (unambiguously) by its email, as a person types it. */
export function findSession(list: AccountSessionsResponse, wanted: string) {
  const byId = list.sessions.find((session) => session.sessionId === wanted);
  if (byId) return byId;
  const byEmail = list.sessions.filter((session) => session.email?.toLowerCase() === wanted.toLowerCase());
  if (byEmail.length > 1) throw invalidRequest(`${wanted} names ${byEmail.length} sessions; use a session id`);
  if (byEmail.length === 0) throw invalidRequest(`no signed-in account is ${wanted}`);
  return byEmail[0]!;
}
