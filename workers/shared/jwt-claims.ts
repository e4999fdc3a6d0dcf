/**
 * Reads the claims codex cares about from an id_token or access token (no signature check). Both
 * workers use it (the login worker for a new sign-in, the token service for every snapshot); the
 * main thread never decodes a JWT.
 */
import { decodeJwt } from 'jose/jwt/decode'; // the decoder alone: the whole of jose costs a worker ~35 ms to load

const AUTH_CLAIM = 'https://api.openai.com/auth';
const PROFILE_CLAIM = 'https://api.openai.com/profile';

export interface TokenClaims {
  email?: string;
  planType?: string;
  accountId?: string;
  userId?: string;
  /** Epoch milliseconds. */
  expiresAt?: number;
}

/** Throws when the token is not a well-formed JWT. */
export function readTokenClaims(jwt: string): TokenClaims {
  const payload = decodeJwt(jwt);
  const auth = asRecord(payload[AUTH_CLAIM]);
  const profile = asRecord(payload[PROFILE_CLAIM]);
  const claims: TokenClaims = {};
  const email = stringOf(payload['email']) ?? stringOf(profile?.['email']);
  if (email) claims.email = email;
  const plan = stringOf(auth?.['chatgpt_plan_type']);
  if (plan) claims.planType = plan.toLowerCase();
  const account = stringOf(auth?.['chatgpt_account_id']);
  if (account) claims.accountId = account;
  const user = stringOf(auth?.['chatgpt_user_id']) ?? stringOf(auth?.['user_id']);
  if (user) claims.userId = user;
  if (typeof payload.exp === 'number') claims.expiresAt = payload.exp * 1000;
  return claims;
}

/** The two id_token claims codex 0.25 bases its choice of auth method on, as it reads them. */
export interface CodexIdTokenClaims {
  /** The top-level `email` claim only (0.25 has no `https://api.openai.com/profile` fallback). */
  email?: string;
  /** `chatgpt_plan_type` exactly as stored: 0.25 compares it case-sensitively. */
  planType?: string;
}

/**
 * Reads the id_token the way codex 0.25's `parse_id_token` does, and throws wherever that fails
 * (which makes codex read the whole auth.json as unusable): fewer than three non-empty
 * dot-separated parts (more are ignored), a payload that is not unpadded base64url of a UTF-8
 * JSON object, or an `email`, auth claim or `chatgpt_plan_type` of the wrong JSON type (null is
 * allowed). jose's decodeJwt is more forgiving (padding, an empty signature), so it cannot be used
 * to decide what codex would accept.
 */
export function readCodexIdTokenClaims(jwt: string): CodexIdTokenClaims {
  const [header, payload, signature] = jwt.split('.');
  if (!header || !payload || !signature) throw new Error('invalid ID token format');
  if (!/^[A-Za-z0-9_-]+$/.test(payload) || payload.length % 4 === 1) throw new Error('id_token payload is not base64url');
  const claims: unknown = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(Buffer.from(payload, 'base64url')));
  if (claims === null || typeof claims !== 'object' || Array.isArray(claims)) throw new Error('id_token payload is not an object');
  const email = (claims as Record<string, unknown>)['email'];
  const auth = (claims as Record<string, unknown>)[AUTH_CLAIM];
  if (email != null && typeof email !== 'string') throw new Error('id_token email is not a string');
  if (auth != null && (typeof auth !== 'object' || Array.isArray(auth))) throw new Error('id_token auth claim is not an object');
  const plan = (auth as Record<string, unknown> | null | undefined)?.['chatgpt_plan_type'];
  if (plan != null && typeof plan !== 'string') throw new Error('id_token chatgpt_plan_type is not a string');
  return { ...(typeof email === 'string' && { email }), ...(typeof plan === 'string' && { planType: plan }) };
}

/** Like readTokenClaims, but an unreadable token gives `undefined` instead of throwing. */
export function tryReadTokenClaims(jwt: string): TokenClaims | undefined {
  try {
    return readTokenClaims(jwt);
  } catch {
    return undefined;
  }
}

const asRecord = (value: unknown) =>
  value !== null && typeof value === 'object' ? (value as Record<string, unknown>) : undefined;
const stringOf = (value: unknown) => (typeof value === 'string' && value !== '' ? value : undefined);
