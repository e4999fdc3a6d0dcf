/**
 * What an admin (or the user's own config) allows to be signed in, as Codex 0.171 decides it:
 * `forced_login_method` (intersected with requirements.toml's `allowed_login_methods`) and
 * `forced_chatgpt_workspace_id` (intersected with requirements.toml's `allowed_chatgpt_workspaces`).
 *
 * 0.171 applies them to whoever is signed in, not only to new sign-ins: a stored credential they
 * forbid is "Not logged in" (`codex login status` exits 1, `account/read` gives `account: null`,
 * `getAuthStatus` no method and no token). The credential is left where it is (0.171 deletes
 * nothing: measured with its `login status`, `account/read`, `getAuthStatus` and app-server start).
 * An API key is never subject to the workspace restriction (0.171: signed in with the key).
 *
 * This module is the one place that decides; every thread imports it (it imports nothing of theirs).
 */
import * as z from './zod.js';
import type { AuthError } from './auth-wire.js';

export const LoginRestrictionsSchema = z.object({
  /** The one method allowed; absent: both. */
  forcedLoginMethod: z.optional(z.enum(['chatgpt', 'api'])),
  /** The ChatGPT workspaces (account ids) allowed; absent: any; empty: none (the layers allow no common one). */
  allowedWorkspaceIds: z.optional(z.array(z.string())),
  /** The setting(s) the method rule comes from, for messages (default `forced_login_method`). */
  methodSetting: z.optional(z.string()),
  /** The setting(s) the workspace rule comes from, for messages (default `forced_chatgpt_workspace_id`). */
  workspaceSetting: z.optional(z.string()),
});
export type LoginRestrictions = z.infer<typeof LoginRestrictionsSchema>;

/** What a stored credential is, for the decision. */
export type CredentialKind = { method: 'apikey' } | { method: 'chatgpt'; workspaceId: string | undefined };

/** The `authError` codes of a forbidden credential. */
export const LOGIN_METHOD_FORBIDDEN = 'login_method_forbidden';
export const WORKSPACE_FORBIDDEN = 'workspace_forbidden';

export const isForbidden = (code: string | undefined) => code === LOGIN_METHOD_FORBIDDEN || code === WORKSPACE_FORBIDDEN;

/** The workspaces as 0.171 names them in its messages and in `allowed_workspace_id`: comma-joined. */
export const workspaceList = (ids: readonly string[]) => ids.join(',');

/**
 * Why `credential` may not be used under `restrictions` (an `authError` naming the setting), or
 * undefined when it may.
 */
export function forbiddenBecause(restrictions: LoginRestrictions | undefined, credential: CredentialKind): AuthError | undefined {
  if (!restrictions) return undefined;
  const { forcedLoginMethod, allowedWorkspaceIds } = restrictions;
  const methodSetting = restrictions.methodSetting ?? 'forced_login_method';
  const workspaceSetting = restrictions.workspaceSetting ?? 'forced_chatgpt_workspace_id';
  if (credential.method === 'apikey' && forcedLoginMethod === 'chatgpt') {
    return {
      code: LOGIN_METHOD_FORBIDDEN,
      message: `Not signed in: an API key is stored, but ${methodSetting} allows ChatGPT sign-in only (the key is kept, unused). Sign in with ChatGPT.`,
    };
  }
  if (credential.method === 'chatgpt' && forcedLoginMethod === 'api') {
    return {
      code: LOGIN_METHOD_FORBIDDEN,
      message: `Not signed in: ChatGPT tokens are stored, but ${methodSetting} allows API-key sign-in only (the tokens are kept, unused). Sign in with an API key.`,
    };
  }
  if (credential.method === 'chatgpt' && allowedWorkspaceIds && !(credential.workspaceId && allowedWorkspaceIds.includes(credential.workspaceId))) {
    const allowed = allowedWorkspaceIds.length ? `workspace(s) ${workspaceList(allowedWorkspaceIds)} only` : 'no workspace (its layers have none in common)';
    return {
      code: WORKSPACE_FORBIDDEN,
      message: `Not signed in: the stored ChatGPT sign-in is for workspace ${credential.workspaceId ?? '(none named)'}, but ${workspaceSetting} allows ${allowed} (the tokens are kept, unused). Sign in to an allowed workspace.`,
    };
  }
  return undefined;
}

/** 0.171's refusal of a sign-in that came back with another workspace (its exact text, after "Login server error: "). */
export const workspaceRefusal = (allowedWorkspaceIds: readonly string[]) => `Login is restricted to workspace id(s) ${workspaceList(allowedWorkspaceIds)}.`;

/** Whether a ChatGPT sign-in may start at all: not when no workspace is allowed. */
export const chatgptAllowed = (restrictions: LoginRestrictions | undefined) =>
  restrictions?.forcedLoginMethod !== 'api' && !(restrictions?.allowedWorkspaceIds && restrictions.allowedWorkspaceIds.length === 0);
