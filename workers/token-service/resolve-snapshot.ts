/**
 * Turns what is stored into an AuthSnapshot, choosing the credential in force exactly as Codex
 * 0.171 does (checked case by case against the real binary in test/codex-0171.test.ts):
 *  - `auth_mode` decides when present: `apikey` needs a key (none: signed out, "API key auth is
 *    missing a key"); `chatgpt` (and `chatgptAuthTokens`) needs tokens (none: signed out, and
 *    account/read refuses with "plan type is required for chatgpt authentication"). Any other
 *    value makes the whole record unusable, as it does for 0.171.
 *  - without `auth_mode`: a stored OPENAI_API_KEY (even an empty one) means `apikey`, else ChatGPT.
 *    (0.25 chose by plan and `preferred_auth_method`; 0.171 and we no longer do.)
 *  - an empty key is an API-key account with no bearer to hand out (getAuthStatus: no method).
 *  - the OPENAI_API_KEY environment variable is not a credential (0.171 reads it only for
 *    `login --with-api-key`); no stored record means signed out.
 *  - a credential that forced_login_method or forced_chatgpt_workspace_id forbids (see
 *    src/protocol/login-restrictions.ts): signed out, `authError` naming the setting, the record untouched.
 *  - an unusable record: signed out, and (beyond the original) `authError` says why: bad JSON, a
 *    wrong type, an id_token that is not a JWT, a `last_refresh` that is not RFC 3339, ChatGPT
 *    tokens with no `last_refresh` or an empty access token.
 */
import type { AuthSnapshot } from '../../src/protocol/snapshot.js';
import type { StoredAuth, TokenData } from '../../src/auth/store/record.js';
import type { StorageKind } from '../../src/protocol/storage.js';
import { readCodexIdTokenClaims, tryReadTokenClaims } from '../shared/jwt-claims.js';
import { forbiddenBecause, type LoginRestrictions } from '../../src/protocol/login-restrictions.js';

/** Refresh when the access token expires within this window (one window for "valid" and "refresh now"). */
export const REFRESH_WINDOW_MS = 5 * 60 * 1000;
/** When `exp` cannot be read, refresh once `last_refresh` is older than this. */
export const STALE_LAST_REFRESH_MS = 8 * 24 * 60 * 60 * 1000;

/** The `auth_mode` values of 0.171's file format that name one of the two credentials we manage. */
const KEY_MODES = new Set(['apikey']);
const TOKEN_MODES = new Set(['chatgpt', 'chatgptAuthTokens']);

/** What chrono's `DateTime<Utc>` accepts for `last_refresh` (RFC 3339; 'T', 't' or ' '; an offset or Z). */
const RFC3339 = /^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$/;

export interface ResolveOptions {
  storage: StorageKind;
  storageWarning?: string | undefined;
  /** forced_login_method / forced_chatgpt_workspace_id (and requirements.toml): a credential they forbid is not in force. */
  restrictions?: LoginRestrictions | undefined;
}

export function resolveSnapshot(stored: StoredAuth, options: ResolveOptions): AuthSnapshot {
  const base = { storage: options.storage, ...(options.storageWarning && { storageWarning: options.storageWarning }) };
  if (stored.kind === 'missing') return { ...base, source: 'none', fingerprint: 'none' };
  if (stored.kind === 'unusable') return { ...unusable(stored.reason, stored.fingerprint, options.storage, stored.code), ...base };

  const { record, fingerprint } = stored;
  const source = options.storage;
  const fail = (reason: string, code?: string) => ({ ...unusable(reason, fingerprint, options.storage, code), ...base });
  const lastRefresh = record.last_refresh ?? undefined;
  if (lastRefresh !== undefined && !RFC3339.test(lastRefresh)) return fail('last_refresh is not an RFC 3339 date-time');
  const tokens = record.tokens ?? undefined;
  try {
    if (tokens) readCodexIdTokenClaims(tokens.id_token);
  } catch {
    // codex fails to load the whole file on a malformed id_token, whichever mode is in force.
    return fail('the stored id_token is not a valid JWT');
  }
  const apiKey = record.OPENAI_API_KEY ?? undefined;
  const mode = record.auth_mode ?? (apiKey !== undefined ? 'apikey' : 'chatgpt');

  if (KEY_MODES.has(mode)) {
    if (apiKey === undefined) return fail('API key auth is missing a key', 'api_key_missing');
    // An empty key is still "a key" to codex: it decides the account, then hands out no bearer.
    const forbidden = forbiddenBecause(options.restrictions, { method: 'apikey' });
    // 0.171 with forced_login_method = "chatgpt" and a key in force: signed out, even when tokens are stored too.
    if (forbidden) return { ...base, source, fingerprint, authError: forbidden };
    if (apiKey === '') return { ...fail('the stored OPENAI_API_KEY is empty'), accountType: 'apiKey' };
    return { ...base, authMethod: 'apikey', accountType: 'apiKey', authToken: apiKey, source, fingerprint };
  }
  if (!TOKEN_MODES.has(mode)) return fail(`auth_mode "${mode}" is not one Codex knows`);

  // account/read still refuses with 0.171's words (src/server/methods/account.ts); a person reads these.
  if (!tokens) {
    return fail(
      record.auth_mode === undefined
        ? `neither an API key (OPENAI_API_KEY) nor ChatGPT tokens are in it (found: ${Object.keys(record).join(', ') || 'nothing'}); sign in again`
        : `auth_mode is "${mode}" but no ChatGPT tokens are stored; sign in again`,
      'chatgpt_tokens_missing',
    );
  }
  // The account shown to clients (email with the profile fallback, plan, account and user ids).
  const idClaims = tryReadTokenClaims(tokens.id_token) ?? {};
  const accountId = idClaims.accountId ?? tokens.account_id ?? undefined;
  const account = {
    ...(idClaims.email && { email: idClaims.email }),
    ...(idClaims.planType && { planType: idClaims.planType }),
    ...(accountId && { accountId }),
    ...(idClaims.userId && { userId: idClaims.userId }),
  };
  // 0.171 checks the workspace of the stored `account_id` first, the id_token's claim only when there is none.
  const forbidden = forbiddenBecause(options.restrictions, { method: 'chatgpt', workspaceId: tokens.account_id ?? idClaims.accountId ?? undefined });
  if (forbidden) return { ...base, source, fingerprint, authError: forbidden };
  // Codex hands out ChatGPT tokens only with a last_refresh, and reports no method for an empty one.
  if (lastRefresh === undefined) return fail('the stored ChatGPT tokens have no last_refresh');
  if (tokens.access_token === '') return fail('the stored access_token is empty');
  const expiresAt = tryReadTokenClaims(tokens.access_token)?.expiresAt;
  const refreshDueAt = refreshDueTime(expiresAt, lastRefresh);
  return {
    ...base,
    authMethod: 'chatgpt',
    accountType: 'chatgpt',
    authToken: tokens.access_token,
    account,
    ...(expiresAt !== undefined && { accessTokenExpiresAt: expiresAt }),
    lastRefresh,
    ...(refreshDueAt !== undefined && { refreshDueAt }),
    source,
    fingerprint,
  };
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
