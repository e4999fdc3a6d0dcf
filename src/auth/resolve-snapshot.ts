/**
 * Turns what is stored into an AuthSnapshot, choosing the auth method exactly as codex 0.25 does:
 *  - no stored record: a non-empty OPENAI_API_KEY env var means `apikey`, else signed out;
 *  - a key and no tokens: `apikey`;
 *  - a key and tokens: `preferred_auth_method = "apikey"` means `apikey`; otherwise an
 *    `@openai.com` email, or a free/plus/pro/team plan, means `chatgpt`, and any other plan
 *    (business, enterprise, edu, unknown or none) means `apikey` (codex's `should_use_api_key`,
 *    which reads the top-level `email` claim and compares the plan case-sensitively);
 *  - tokens and no key: `chatgpt` (the env var is ignored);
 *  - an unusable record: signed out, and (beyond the original) `authError` says why. Unusable is
 *    what 0.25 cannot load (bad JSON, a wrong type, an id_token `parse_id_token` refuses, a
 *    `last_refresh` that is not RFC 3339) and what it loads but reports no method for, because
 *    the bearer it would hand out is empty or its token data is incomplete (ChatGPT tokens
 *    without `last_refresh`).
 */
import type { AuthMethod } from '../protocol/auth-wire.js';
import type { AuthSnapshot } from '../protocol/snapshot.js';
import type { StoredAuth, TokenData } from './auth-record.js';
import type { StorageKind } from './credential-store.js';
import { readCodexIdTokenClaims, tryReadTokenClaims } from './jwt-claims.js';

/** Refresh when the access token expires within this window (one window for "valid" and "refresh now"). */
export const REFRESH_WINDOW_MS = 5 * 60 * 1000;
/** When `exp` cannot be read, refresh once `last_refresh` is older than this. */
export const STALE_LAST_REFRESH_MS = 8 * 24 * 60 * 60 * 1000;

const CHATGPT_PLANS = new Set(['free', 'plus', 'pro', 'team']);

/** What chrono's `DateTime<Utc>` accepts for `last_refresh` (RFC 3339; 'T', 't' or ' '; an offset or Z). */
const RFC3339 = /^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$/;

export interface ResolveOptions {
  preferredAuthMethod: AuthMethod;
  /** The OPENAI_API_KEY environment variable as the server process saw it. */
  envApiKey?: string | undefined;
  storage: StorageKind;
  storageWarning?: string | undefined;
}

export function resolveSnapshot(stored: StoredAuth, options: ResolveOptions): AuthSnapshot {
  const base = { storage: options.storage, ...(options.storageWarning && { storageWarning: options.storageWarning }) };
  if (stored.kind === 'missing') {
    const key = options.envApiKey;
    return key
      ? { ...base, authMethod: 'apikey', authToken: key, source: 'env', fingerprint: 'env' }
      : { ...base, source: 'none', fingerprint: 'none' };
  }
  if (stored.kind === 'unusable') return { ...unusable(stored.reason, stored.fingerprint, options.storage, stored.code), ...base };

  const { record, fingerprint } = stored;
  const source = options.storage;
  const lastRefresh = record.last_refresh ?? undefined;
  if (lastRefresh !== undefined && !RFC3339.test(lastRefresh)) {
    return { ...unusable('last_refresh is not an RFC 3339 date-time', fingerprint, options.storage), ...base };
  }
  // An empty key is still "a key" to codex: it decides the method, then reports none (empty bearer).
  const apiKey = record.OPENAI_API_KEY ?? undefined;
  const emptyKey = () => ({ ...unusable('the stored OPENAI_API_KEY is empty', fingerprint, options.storage), ...base });
  const tokens = record.tokens ?? undefined;
  if (!tokens) {
    if (apiKey === '') return emptyKey();
    return apiKey
      ? { ...base, authMethod: 'apikey', authToken: apiKey, source, fingerprint }
      : { ...base, source, fingerprint };
  }

  let codexClaims;
  try {
    codexClaims = readCodexIdTokenClaims(tokens.id_token);
  } catch {
    // codex fails to load the whole file on a malformed id_token; we say so instead.
    return { ...unusable('the stored id_token is not a valid JWT', fingerprint, options.storage), ...base };
  }
  // The account shown to clients (email with the profile fallback, plan, account id).
  const idClaims = tryReadTokenClaims(tokens.id_token) ?? {};
  const account = {
    ...(idClaims.email && { email: idClaims.email }),
    ...(idClaims.planType && { planType: idClaims.planType }),
    ...((idClaims.accountId ?? tokens.account_id) && { accountId: idClaims.accountId ?? tokens.account_id! }),
  };
  if (apiKey !== undefined && usesApiKey(options.preferredAuthMethod, codexClaims.email, codexClaims.planType)) {
    if (apiKey === '') return emptyKey();
    return { ...base, authMethod: 'apikey', authToken: apiKey, account, source, fingerprint };
  }
  // codex 0.25 hands out ChatGPT tokens only with a last_refresh, and reports no method for an empty one.
  if (lastRefresh === undefined) {
    return { ...unusable('the stored ChatGPT tokens have no last_refresh', fingerprint, options.storage), ...base };
  }
  if (tokens.access_token === '') {
    return { ...unusable('the stored access_token is empty', fingerprint, options.storage), ...base };
  }
  const expiresAt = tryReadTokenClaims(tokens.access_token)?.expiresAt;
  const refreshDueAt = refreshDueTime(expiresAt, lastRefresh);
  return {
    ...base,
    authMethod: 'chatgpt',
    authToken: tokens.access_token,
    account,
    ...(expiresAt !== undefined && { accessTokenExpiresAt: expiresAt }),
    lastRefresh,
    ...(refreshDueAt !== undefined && { refreshDueAt }),
    source,
    fingerprint,
  };
}

function usesApiKey(preferred: AuthMethod, email: string | undefined, plan: string | undefined): boolean {
  if (preferred === 'apikey') return true;
  if (email?.trim().toLowerCase().endsWith('@openai.com')) return false;
  return !(plan && CHATGPT_PLANS.has(plan));
}

/**
 * When a refresh becomes due: 5 minutes before the access token's `exp`; without a readable
 * `exp`, 8 days after `last_refresh` (or at once when that is missing too).
 */
export function refreshDueTime(expiresAt: number | undefined, lastRefresh: string | undefined): number | undefined {
  if (expiresAt !== undefined) return expiresAt - REFRESH_WINDOW_MS;
  const refreshedAt = lastRefresh ? Date.parse(lastRefresh) : Number.NaN;
  return Number.isNaN(refreshedAt) ? 0 : refreshedAt + STALE_LAST_REFRESH_MS;
}

export const needsRefresh = (snapshot: AuthSnapshot, now = Date.now()) =>
  snapshot.refreshDueAt !== undefined && now >= snapshot.refreshDueAt;

function unusable(reason: string, fingerprint: string, storage: StorageKind, code = 'auth_file_unreadable'): AuthSnapshot {
  return {
    storage,
    source: storage,
    fingerprint,
    authError: { code, message: `Stored credentials cannot be used: ${reason}` },
  };
}

export type { TokenData };
