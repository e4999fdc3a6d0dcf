/** PKCE and state values, and the authorize URL exactly as Codex 0.171 builds it (login worker). */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

export interface Pkce {
  readonly verifier: string;
  readonly challenge: string;
}

/** 64 random bytes → an 86-character base64url verifier; the challenge is its S256 hash. */
export function generatePkce(): Pkce {
  const verifier = randomBytes(64).toString('base64url');
  return { verifier, challenge: createHash('sha256').update(verifier).digest('base64url') };
}

/** 32 random bytes, base64url (43 characters). */
export const generateState = () => randomBytes(32).toString('base64url');

/** Constant-time comparison; a missing or differently sized value is simply unequal. */
export function stateMatches(expected: string, received: string | null): boolean {
  if (received === null) return false;
  const a = Buffer.from(expected);
  const b = Buffer.from(received);
  return a.length === b.length && timingSafeEqual(a, b);
}

/** 0.171's redirect host is 127.0.0.1 (0.25 said localhost); the listener answers on both. */
export const redirectUriFor = (port: number) => `http://127.0.0.1:${port}/auth/callback`;

/** What 0.171 asks for: the connector scopes are what today's Codex uses its tokens for. */
export const AUTHORIZE_SCOPE = 'openid profile email offline_access api.connectors.read api.connectors.invoke';

/**
 * Our `originator`: `codex_cli_rs`, what 0.171's own `codex login` sends. The sign-in we make is
 * that one — Codex's OAuth client, its scopes, tokens stored where `codex` reads them — and the
 * issuer keys its handling of a Codex sign-in on the originator (0.171's app-server passes each
 * first-party client's name: codex_vscode …); a name it has never seen is a risk we cannot test
 * offline. CODEX_INTERNAL_ORIGINATOR_OVERRIDE replaces it, as it does for 0.171.
 */
export const DEFAULT_ORIGINATOR = 'codex_cli_rs';

/** Optional authorize parameters of Codex 0.171: whom to expect, and which workspace(s) to sign in to. */
export interface AuthorizeHints {
  readonly loginHint?: string | undefined;
  /** One workspace (a switch of workspace), else forced_chatgpt_workspace_id's, comma-joined as 0.171 sends them. */
  readonly allowedWorkspaceId?: string | undefined;
  readonly originator?: string | undefined;
}

/** The parameters in 0.171's order, form-encoded as it encodes them (a space is '+'). */
export function buildAuthorizeUrl(issuer: string, clientId: string, redirectUri: string, pkce: Pkce, state: string, hints: AuthorizeHints = {}): string {
  const query = new URLSearchParams(<[string, string][]>[
    ['response_type', 'code'],
    ['client_id', clientId],
    ['redirect_uri', redirectUri],
    ['code_challenge', pkce.challenge],
    ['code_challenge_method', 'S256'],
    ['state', state],
    ['scope', AUTHORIZE_SCOPE],
    ['id_token_add_organizations', 'true'],
    ['codex_cli_simplified_flow', 'true'],
    ['originator', hints.originator ?? DEFAULT_ORIGINATOR],
    ...(hints.allowedWorkspaceId ? [['allowed_workspace_id', hints.allowedWorkspaceId] as [string, string]] : []),
    ...(hints.loginHint ? [['login_hint', hints.loginHint] as [string, string]] : []),
  ]);
  return `${issuer}/oauth/authorize?${query}`;
}
