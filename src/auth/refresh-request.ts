/**
 * One refresh of ChatGPT tokens at `{issuer}/oauth/token`, as codex sends it (JSON body), with a
 * hard timeout per attempt, retries for transient failures, and codex's classification of
 * permanent ones. Runs in the token service worker.
 */
import { setTimeout as delay } from 'node:timers/promises';
import { z } from 'zod';
import { issuerFetch } from '../net/issuer-fetch.js';
import { CLIENT_ID } from '../protocol/login.js';
import type { RefreshFailureCode } from '../protocol/snapshot.js';

/** Every response field is optional: absent (or empty) ones keep their stored values. */
const RefreshResponseSchema = z.looseObject({
  id_token: z.string().optional(),
  access_token: z.string().optional(),
  refresh_token: z.string().optional(),
});
export type RefreshedTokens = { id_token?: string; access_token?: string; refresh_token?: string };

export type RefreshAttemptResult =
  | { ok: true; tokens: RefreshedTokens }
  | { ok: false; permanent: boolean; code: RefreshFailureCode; message: string };

export const PERMANENT_MESSAGES: Record<string, string> = {
  refresh_token_expired:
    'Your access token could not be refreshed because your refresh token has expired. Please log out and sign in again.',
  refresh_token_reused:
    'Your access token could not be refreshed because your refresh token was already used. Please log out and sign in again.',
  refresh_token_invalidated:
    'Your access token could not be refreshed because your refresh token was revoked. Please log out and sign in again.',
  refresh_failed_permanently: 'Your access token could not be refreshed. Please log out and sign in again.',
};

export interface RefreshPolicy {
  readonly attemptTimeoutMs: number;
  /** Retries after the first attempt, for transient failures only. */
  readonly retries: number;
  readonly baseDelayMs: number;
  readonly maxDelayMs: number;
}

export const DEFAULT_REFRESH_POLICY: RefreshPolicy = { attemptTimeoutMs: 30_000, retries: 3, baseDelayMs: 250, maxDelayMs: 10_000 };

export async function requestRefresh(issuer: string, refreshToken: string, policy = DEFAULT_REFRESH_POLICY): Promise<RefreshAttemptResult> {
  let last: RefreshAttemptResult | undefined;
  for (let attempt = 0; attempt <= policy.retries; attempt++) {
    const { result, retryAfterMs } = await attemptRefresh(issuer, refreshToken, policy.attemptTimeoutMs);
    if (result.ok || result.permanent) return result;
    last = result;
    if (attempt < policy.retries) await delay(backoff(attempt, retryAfterMs, policy));
  }
  return last!;
}

/** Exponential with full jitter; a server's Retry-After wins when it asks for longer. */
export function backoff(attempt: number, retryAfterMs: number | undefined, policy: RefreshPolicy): number {
  const exponential = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** attempt);
  const jittered = exponential / 2 + Math.random() * (exponential / 2);
  return Math.min(policy.maxDelayMs, Math.max(jittered, retryAfterMs ?? 0));
}

async function attemptRefresh(issuer: string, refreshToken: string, timeoutMs: number) {
  let response;
  try {
    response = await issuerFetch(`${issuer}/oauth/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json' },
      body: JSON.stringify({ client_id: CLIENT_ID, grant_type: 'refresh_token', refresh_token: refreshToken, scope: 'openid profile email' }),
      signal: AbortSignal.timeout(timeoutMs),
    });
  } catch (error) {
    const timedOut = (error as Error).name === 'TimeoutError';
    return { result: transient(timedOut ? 'refresh_timeout' : 'refresh_unavailable', timedOut ? `the issuer did not answer within ${timeoutMs / 1000} s` : `the issuer could not be reached (${(error as Error).message})`) };
  }
  const text = await response.text().catch(() => '');
  if (response.ok) {
    const parsed = RefreshResponseSchema.safeParse(safeJson(text));
    if (!parsed.success) return { result: transient('refresh_unavailable', 'the issuer answered with a malformed body') };
    const { id_token, access_token, refresh_token } = parsed.data;
    // Never store an empty string: an empty field counts as absent.
    const tokens: RefreshedTokens = {
      ...(id_token && { id_token }),
      ...(access_token && { access_token }),
      ...(refresh_token && { refresh_token }),
    };
    return { result: { ok: true as const, tokens } };
  }
  return { result: classifyFailure(response.status, text), retryAfterMs: retryAfter(response.headers.get('retry-after')) };
}

/** Permanent: invalid_grant and 401s (codes expired/reused/invalidated); transient: 429 and 5xx. */
export function classifyFailure(status: number, body: string): RefreshAttemptResult & { ok: false } {
  if (status === 429 || status >= 500) return transient('refresh_unavailable', `the issuer answered ${status}`);
  const code = errorCodeOf(safeJson(body));
  if (code && code in PERMANENT_MESSAGES) return permanent(code as RefreshFailureCode);
  return permanent('refresh_failed_permanently', status);
}

function permanent(code: RefreshFailureCode, status?: number): RefreshAttemptResult & { ok: false } {
  const message = PERMANENT_MESSAGES[code] ?? PERMANENT_MESSAGES['refresh_failed_permanently']!;
  return { ok: false, permanent: true, code, message: status ? `${message} (issuer answered ${status})` : message };
}

function transient(code: RefreshFailureCode, message: string): RefreshAttemptResult & { ok: false } {
  return { ok: false, permanent: false, code, message: `Token refresh failed: ${message}` };
}

/** `{"error":{"code":"x"}}` (ChatGPT), `{"error":"x"}` or `{"code":"x"}`. */
function errorCodeOf(json: unknown): string | undefined {
  if (!json || typeof json !== 'object') return undefined;
  const record = json as Record<string, unknown>;
  const error = record['error'];
  if (error && typeof error === 'object' && typeof (error as Record<string, unknown>)['code'] === 'string') {
    return (error as Record<string, string>)['code'];
  }
  if (typeof record['code'] === 'string') return record['code'];
  return typeof error === 'string' ? error : undefined;
}

function retryAfter(header: string | null): number | undefined {
  if (!header) return undefined;
  const seconds = Number(header);
  if (Number.isFinite(seconds)) return Math.max(0, seconds * 1000);
  const date = Date.parse(header);
  return Number.isNaN(date) ? undefined : Math.max(0, date - Date.now());
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
