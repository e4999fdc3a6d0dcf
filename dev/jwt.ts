/**
 * The one JWT helper of tests, bench and fakes: id_tokens and access tokens shaped like the ones
 * auth.openai.com issues, and the auth.json record that holds them. The server only decodes
 * claims (it never checks signatures), so HS256 with a fixed test secret, or an unsecured token
 * (`alg: none`), both do.
 */
import { decodeJwt, SignJWT } from 'jose';

export const AUTH_CLAIM = 'https://api.openai.com/auth';
export const PROFILE_CLAIM = 'https://api.openai.com/profile';

const DEFAULT_SECRET = 'codex-auth-mcp-test-secret';

export interface MakeJwtOptions {
  /** Seconds from now until `exp` (default 3600). Ignored when `exp` is given. */
  expiresInSecs?: number;
  /** `exp` in seconds since the epoch; null leaves `exp` out (a claim in `claims` wins over both). */
  exp?: number | null;
  /** HS256 (default) or an unsecured JWT with an empty signature. */
  alg?: 'HS256' | 'none';
  secret?: string;
}

/** `header.payload.signature`, with `iat` and `exp` added unless the claims set them. */
export async function makeJwt(claims: Record<string, unknown>, options: MakeJwtOptions = {}): Promise<string> {
  const now = Math.floor(Date.now() / 1000);
  const exp = options.exp === undefined ? now + (options.expiresInSecs ?? 3600) : options.exp;
  const payload: Record<string, unknown> = { iat: now, ...(exp !== null && { exp }), ...claims };
  if (options.alg === 'none') {
    const part = (value: unknown) => Buffer.from(JSON.stringify(value), 'utf8').toString('base64url');
    return `${part({ alg: 'none', typ: 'JWT' })}.${part(payload)}.`;
  }
  return new SignJWT(payload)
    .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
    .sign(new TextEncoder().encode(options.secret ?? DEFAULT_SECRET));
}

export interface OpenAiIdentity {
  email?: string;
  planType?: string;
  accountId?: string;
}

/** The claims codex reads: `email`, and `https://api.openai.com/auth` {chatgpt_plan_type, chatgpt_account_id}. */
export function openAiClaims(identity: OpenAiIdentity): Record<string, unknown> {
  const auth: Record<string, string> = {};
  if (identity.planType) auth['chatgpt_plan_type'] = identity.planType;
  if (identity.accountId) auth['chatgpt_account_id'] = identity.accountId;
  return {
    ...(identity.email && { email: identity.email, [PROFILE_CLAIM]: { email: identity.email } }),
    [AUTH_CLAIM]: auth,
  };
}

/** An id_token or access token for `identity`. */
export function identityJwt(identity: OpenAiIdentity, options: MakeJwtOptions = {}): Promise<string> {
  return makeJwt(openAiClaims(identity), options);
}

export interface TestTokenClaims extends OpenAiIdentity {
  /** Seconds since the epoch; default one hour from now. */
  exp?: number;
}

/** identityJwt with `exp` among the claims (the shorthand most tests use). */
export function testJwt({ exp, ...identity }: TestTokenClaims = {}): Promise<string> {
  return identityJwt(identity, exp === undefined ? {} : { exp });
}

/** An auth.json record for a ChatGPT sign-in, optionally with an exchanged API key. */
export async function chatgptAuthRecord(
  claims: TestTokenClaims = { email: 'user@example.com', planType: 'plus', accountId: 'acct-1' },
  apiKey: string | null = null,
) {
  return {
    OPENAI_API_KEY: apiKey,
    tokens: {
      id_token: await testJwt(claims),
      access_token: await testJwt(claims),
      refresh_token: 'rt-test-1',
      account_id: claims.accountId ?? null,
    },
    last_refresh: new Date().toISOString(),
  };
}

/** The payload of any JWT (no signature check). */
export function jwtPayload(jwt: string): Record<string, unknown> {
  return decodeJwt(jwt) as Record<string, unknown>;
}
