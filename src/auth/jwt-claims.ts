/** Reads the claims codex cares about from an id_token or access token (no signature check). */
import { decodeJwt } from 'jose';

const AUTH_CLAIM = 'https://api.openai.com/auth';
const PROFILE_CLAIM = 'https://api.openai.com/profile';

export interface TokenClaims {
  email?: string;
  planType?: string;
  accountId?: string;
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
  if (typeof payload.exp === 'number') claims.expiresAt = payload.exp * 1000;
  return claims;
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
