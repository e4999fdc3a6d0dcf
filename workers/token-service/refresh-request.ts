/**
 * One refresh request at `{issuer}/oauth/token`, as codex sends it (a JSON body), with a hard
 * timeout, and codex's classification of what came back. Runs in the token service worker; the
 * retry loop around it (refresh-task.ts) releases the auth.json lock between attempts.
 */
import * as z from '../../src/protocol/zod.js';
import { issuerFetch } from '../shared/issuer-fetch.js';
import { CLIENT_ID } from '../../src/protocol/login.js';
import type { RefreshFailureCode } from '../../src/protocol/snapshot.js';
import { readCodexIdTokenClaims } from '../shared/jwt-claims.js';
import { describeOAuthErrorCode } from '../shared/oauth-error-codes.js';
import { ATTEMPT_TIMEOUT_MS, type RetryPolicy } from '../../src/protocol/refresh-policy.js';

/** Every response field is optional; null and "" count as absent (an empty string is never stored). */
const RefreshResponseSchema = z.looseObject({
  id_token: z.nullish(z.string()),
  access_token: z.nullish(z.string()),
  refresh_token: z.nullish(z.string()),
});
export type RefreshedTokens = { id_token?: string; access_token?: string; refresh_token?: string };

export type AttemptFailure = {
  ok: false;
  permanent: boolean;
  code: RefreshFailureCode;
  message: string;
  /** From a Retry-After header. */
  retryAfterMs?: number;
};
export type AttemptResult = { ok: true; tokens: RefreshedTokens } | AttemptFailure;

/** codex's messages, word for word. */
export const REFRESH_MESSAGES = {
  refresh_token_expired:
    'Your access token could not be refreshed because your refresh token has expired. Please log out and sign in again.',
  refresh_token_reused:
    'Your access token could not be refreshed because your refresh token was already used. Please log out and sign in again.',
  refresh_token_invalidated:
    'Your access token could not be refreshed because your refresh token was revoked. Please log out and sign in again.',
  refresh_failed_permanently: 'Your access token could not be refreshed. Please log out and sign in again.',
  account_changed:
    'Your access token could not be refreshed because you have since logged out or signed in to another account. Please sign in again.',
} as const;

export async function attemptRefresh(issuer: string, refreshToken: string, timeoutMs = ATTEMPT_TIMEOUT_MS): Promise<AttemptResult> {
  let response;
  let text: string;
  try {
    response = await issuerFetch(`${issuer}/oauth/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json' },
      body: JSON.stringify({ client_id: CLIENT_ID, grant_type: 'refresh_token', refresh_token: refreshToken, scope: 'openid profile email' }),
      // The timeout covers the whole answer, body included.
      signal: AbortSignal.timeout(timeoutMs),
    });
    text = await response.text();
  } catch (error) {
    const timedOut = (error as Error).name === 'TimeoutError' || (error as Error).name === 'AbortError';
    return timedOut
      ? transient('refresh_timeout', `the issuer did not answer within ${timeoutMs / 1000} s`)
      : transient('refresh_unavailable', `the issuer could not be reached (${describe(error)})`);
  }
  if (response.ok) return parseTokens(text);
  const failure = classifyFailure(response.status, text);
  const retryAfterMs = parseRetryAfter(response.headers.get('retry-after'));
  return retryAfterMs === undefined ? failure : { ...failure, retryAfterMs };
}

function parseTokens(text: string): AttemptResult {
  const parsed = RefreshResponseSchema.safeParse(safeJson(text));
  if (!parsed.success) return transient('refresh_unavailable', 'the issuer answered with a malformed body');
  const { id_token, access_token, refresh_token } = parsed.data;
  // An id_token codex cannot parse would make the whole stored record unreadable: refuse it.
  if (id_token && !parsesAsIdToken(id_token)) return transient('refresh_unavailable', 'the issuer answered with a malformed id_token');
  return {
    ok: true,
    tokens: {
      ...(id_token && { id_token }),
      ...(access_token && { access_token }),
      ...(refresh_token && { refresh_token }),
    },
  };
}

/**
 * As codex: permanent for any 401, for the three refresh-token codes whatever the status, and for
 * a 400 `invalid_grant` (RFC 6749's word for a dead refresh token); everything else (429, 5xx,
 * other 4xx) is transient.
 */
export function classifyFailure(status: number, body: string): AttemptFailure {
  const sent = errorCodeOf(safeJson(body));
  const code = sent?.toLowerCase();
  if (code === 'refresh_token_expired' || code === 'refresh_token_reused' || code === 'refresh_token_invalidated') {
    return { ok: false, permanent: true, code, message: REFRESH_MESSAGES[code] };
  }
  if (status === 401 || (status === 400 && code === 'invalid_grant')) {
    return { ok: false, permanent: true, code: 'refresh_failed_permanently', message: REFRESH_MESSAGES.refresh_failed_permanently };
  }
  // Not the code as sent: an issuer or proxy that echoes the request would put the refresh token here.
  return transient('refresh_unavailable', `the issuer answered ${status}${describeOAuthErrorCode(sent)}`);
}

/**
 * Exponential with jitter (between half and all of base·2^attempt, capped), never shorter than
 * the server's Retry-After.
 */
export function backoff(attempt: number, retryAfterMs: number | undefined, policy: RetryPolicy, random = Math.random): number {
  const exponential = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** attempt);
  const jittered = exponential / 2 + random() * (exponential / 2);
  return Math.max(jittered, retryAfterMs ?? 0);
}

/** Seconds or an HTTP date; undefined when absent or unreadable. */
export function parseRetryAfter(header: string | null, now = Date.now()): number | undefined {
  if (!header) return undefined;
  const trimmed = header.trim();
  if (/^\d+$/.test(trimmed)) return Number(trimmed) * 1000;
  const date = Date.parse(trimmed);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}

function transient(code: RefreshFailureCode, reason: string): AttemptFailure {
  return { ok: false, permanent: false, code, message: `Token refresh failed: ${reason}.` };
}

/** `{"error":{"code":"x"}}` (ChatGPT), `{"error":"x"}` (RFC 6749) or `{"code":"x"}`. */
function errorCodeOf(json: unknown): string | undefined {
  if (!json || typeof json !== 'object') return undefined;
  const record = json as Record<string, unknown>;
  const error = record['error'];
  if (error && typeof error === 'object') {
    const code = (error as Record<string, unknown>)['code'];
    if (typeof code === 'string') return code;
  }
  if (typeof error === 'string') return error;
  return typeof record['code'] === 'string' ? record['code'] : undefined;
}

function describe(error: unknown): string {
  const cause = (error as { cause?: { code?: string; message?: string } }).cause;
  return cause?.code ?? cause?.message ?? (error as Error).message;
}

function parsesAsIdToken(jwt: string): boolean {
  try {
    readCodexIdTokenClaims(jwt);
    return true;
  } catch {
    return false;
  }
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
