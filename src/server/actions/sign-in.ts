/**
 * The sign-in actions every front end shares (v1 methods, the v2 account API, the MCP tools and
 * the CLI): policy checks, then the login engine or the store. Each announces its own change
 * through `after`, which runs what it is given once the caller's answer is out (a request's
 * `afterResponse`; the CLI, which answers nobody, runs it at once).
 */
import { assertCodexHomeWritable } from '../../auth/store/home-writable.js';
import { apiKeyRecord } from '../../auth/store/record.js';
import { chatgptAllowed, workspaceList, type LoginRestrictions } from '../../protocol/login-restrictions.js';
import { internalError, invalidRequest } from '../../protocol/jsonrpc.js';
import type { AuthSnapshot } from '../../protocol/snapshot.js';
import type { ServerContext } from '../context.js';

/** RFC 8628 §5.4: entering a code someone else started is how device-code phishing works. */
export const DEVICE_CODE_WARNING = 'Never enter a code you did not start yourself: device codes are a common phishing target.';

/**
 * `forced_login_method` (and requirements.toml's `allowed_login_methods`) refuses the other way of
 * signing in, and workspace lists with nothing in common refuse ChatGPT sign-in, with 0.171's messages.
 */
export function assertLoginAllowed(restrictions: LoginRestrictions, method: 'api' | 'chatgpt'): void {
  if (restrictions.forcedLoginMethod === 'chatgpt' && method === 'api') {
    throw invalidRequest('API key login is disabled. Use ChatGPT login instead.');
  }
  if (method === 'chatgpt' && !chatgptAllowed(restrictions)) {
    throw invalidRequest('ChatGPT login is disabled. Use API key login instead.');
  }
}

/**
 * A sign-in whose result could not be stored is refused before it starts: before a sign-in page
 * or a device code is handed out, or a key taken (home-writable.ts). With the code a failed write
 * gives (-32603; the tools show it as their error), naming CODEX_HOME, why, and the fix.
 */
export async function assertSignInCanBeKept(context: ServerContext): Promise<void> {
  if (context.config.cli_auth_credentials_store === 'ephemeral') return;
  await assertCodexHomeWritable(context.codexHome).catch((error: Error) => {
    throw internalError(error.message);
  });
}

/** Runs a function once the answer that caused it has been sent. */
export type After = (fn: () => void) => void;
export const atOnce: After = (fn) => fn();

/**
 * Stores an API key as the credentials (cancelling any pending login); announces the sign-in and
 * the new state. The snapshot is undefined when the key is stored but not validated yet (see
 * AuthState.mutate); the sign-in is announced all the same, the new state once it is known.
 */
export async function signInWithApiKey(context: ServerContext, apiKey: string, after: After): Promise<AuthSnapshot | undefined> {
  assertLoginAllowed(context.restrictions, 'api');
  await assertSignInCanBeKept(context);
  await context.logins.cancelActive();
  const { store, notifier } = context;
  const snapshot = await context.auth.mutate(() => store.withLock(() => store.save(apiKeyRecord(apiKey))));
  after(() => {
    notifier.loginEnded({ loginId: null, success: true });
    if (snapshot) notifier.authChanged(snapshot);
  });
  return snapshot;
}

/** Starts a browser sign-in; its completion is let through once the answer naming its loginId is out. */
export async function startChatGptSignIn(context: ServerContext, after: After, hints: { loginHint?: string; allowedWorkspaceId?: string } = {}) {
  assertLoginAllowed(context.restrictions, 'chatgpt');
  await assertSignInCanBeKept(context);
  const allowed = context.restrictions.allowedWorkspaceIds;
  if (hints.allowedWorkspaceId && allowed && !allowed.includes(hints.allowedWorkspaceId)) {
    throw invalidRequest(`the workspace ${hints.allowedWorkspaceId} is not one forced_chatgpt_workspace_id allows (${workspaceList(allowed)})`);
  }
  const started = await context.logins.startChatGpt(hints);
  after(() => context.logins.release(started.loginId));
  return started;
}

export async function startDeviceCodeSignIn(context: ServerContext, after: After) {
  assertLoginAllowed(context.restrictions, 'chatgpt');
  await assertSignInCanBeKept(context);
  const started = await context.logins.startDeviceCode();
  after(() => context.logins.release(started.loginId));
  return started;
}
