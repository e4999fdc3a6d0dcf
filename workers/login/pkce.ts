/** PKCE and state values, and the authorize URL exactly as codex 0.25 builds it (login worker). */
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

export const redirectUriFor = (port: number) => `http://localhost:${port}/auth/callback`;

/** Optional authorize parameters of Codex 0.171: whom to expect, and which workspace to sign in to. */
export interface AuthorizeHints {
  readonly loginHint?: string | undefined;
  readonly allowedWorkspaceId?: string | undefined;
}

export function buildAuthorizeUrl(issuer: string, clientId: string, redirectUri: string, pkce: Pkce, state: string, hints: AuthorizeHints = {}): string {
  // encodeURIComponent gives %20 for spaces, as codex's urlencoding does (URLSearchParams would give '+').
  const query = [
    ['response_type', 'code'],
    ['client_id', clientId],
    ['redirect_uri', redirectUri],
    ['scope', 'openid profile email offline_access'],
    ['code_challenge', pkce.challenge],
    ['code_challenge_method', 'S256'],
    ['id_token_add_organizations', 'true'],
    ['codex_cli_simplified_flow', 'true'],
    ['state', state],
    ...(hints.allowedWorkspaceId ? [['allowed_workspace_id', hints.allowedWorkspaceId]] : []),
    ...(hints.loginHint ? [['login_hint', hints.loginHint]] : []),
  ]
    .map(([key, value]) => `${key}=${encodeURIComponent(value!)}`)
    .join('&');
  return `${issuer}/oauth/authorize?${query}`;
}
