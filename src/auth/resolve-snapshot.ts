/**
 * Turns what is stored into an AuthSnapshot, choosing the auth method exactly as codex 0.25 does:
 *  - no stored record: a non-empty OPENAI_API_KEY env var means `apikey`, else signed out;
 *  - a key and no tokens: `apikey`;
 *  - a key and tokens: `preferred_auth_method = "apikey"` means `apikey`; otherwise an
 *    `@openai.com` email, or a free/plus/pro/team plan, means `chatgpt`, and any other plan
 *    (business, enterprise, edu, unknown or none) means `apikey` (codex's `should_use_api_key`);
 *  - tokens and no key: `chatgpt` (the env var is ignored);
 *  - an unusable record: signed out, and (beyond the original) `authError` says why.
 */
import type { AuthMethod } from '../protocol/auth-wire.js';
import type { AuthSnapshot } from '../protocol/snapshot.js';
import type { StoredAuth, TokenData } from './auth-record.js';
import type { StorageKind } from './credential-store.js';
import { readTokenClaims, tryReadTokenClaims } from './jwt-claims.js';

/** Refresh when the access token expires within this window (one window for "valid" and "refresh now"). */
export const REFRESH_WINDOW_MS = 5 * 60 * 1000;
/** When `exp` cannot be read, refresh once `last_refresh` is older than this. */
export const STALE_LAST_REFRESH_MS = 8 * 24 * 60 * 60 * 1000;

const CHATGPT_PLANS = new Set(['free', 'plus', 'pro', 'team']);

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
  const apiKey = record.OPENAI_API_KEY || undefined;
  const tokens = record.tokens ?? undefined;
  if (!tokens) {
    return apiKey
      ? { ...base, authMethod: 'apikey', authToken: apiKey, source, fingerprint }
      : { ...base, source, fingerprint };
  }

  let idClaims;
  try {
    idClaims = readTokenClaims(tokens.id_token);
  } catch {
    // codex fails to load the whole file on a malformed id_token; we say so instead.
    return unusable('the stored id_token is not a valid JWT', fingerprint, options.storage);
  }
  const account = {
    ...(idClaims.email && { email: idClaims.email }),
    ...(idClaims.planType && { planType: idClaims.planType }),
    ...((idClaims.accountId ?? tokens.account_id) && { accountId: idClaims.accountId ?? tokens.account_id! }),
  };
  if (apiKey && usesApiKey(options.preferredAuthMethod, idClaims.email, idClaims.planType)) {
    return { ...base, authMethod: 'apikey', authToken: apiKey, account, source, fingerprint };
  }
  const expiresAt = tryReadTokenClaims(tokens.access_token)?.expiresAt;
  const refreshDueAt = refreshDueTime(expiresAt, record.last_refresh);
  return {
    ...base,
    authMethod: 'chatgpt',
    authToken: tokens.access_token,
    account,
    ...(expiresAt !== undefined && { accessTokenExpiresAt: expiresAt }),
    ...(record.last_refresh && { lastRefresh: record.last_refresh }),
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
