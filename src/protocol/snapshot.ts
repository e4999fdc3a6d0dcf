/**
 * Inter-thread protocol types: what the token service returns to the main thread.
 * Errors never cross a thread boundary as exceptions (they lose their fields there); every
 * outcome is a plain value validated by these schemas on arrival.
 */
import * as z from './zod.js';
import { AuthErrorSchema, AuthMethodSchema } from './auth-wire.js';
import { StorageKindSchema } from './storage.js';
import { AuthRecordSchema } from './auth-record.js';

export const AccountSchema = z.object({
  email: z.optional(z.string()),
  planType: z.optional(z.string()),
  accountId: z.optional(z.string()),
  /** The ChatGPT user id (`chatgpt_user_id`, else `user_id`, of the id_token's auth claim). */
  userId: z.optional(z.string()),
});
export type Account = z.infer<typeof AccountSchema>;

/** Everything the main thread needs to answer status requests without touching a worker. */
export const AuthSnapshotSchema = z.object({
  authMethod: z.optional(AuthMethodSchema),
  /**
   * The v2 account type the record stands for, even when it has no bearer to hand out (an empty
   * API key is an `apiKey` account to 0.171 while getAuthStatus reports no method).
   */
  accountType: z.optional(z.enum(['apiKey', 'chatgpt'])),
  /** The bearer a client gets with `includeToken`: the API key, or the ChatGPT access token. */
  authToken: z.optional(z.string()),
  account: z.optional(AccountSchema),
  /** Epoch ms of the access token's `exp`, when it could be read. */
  accessTokenExpiresAt: z.optional(z.number()),
  lastRefresh: z.optional(z.string()),
  /** Epoch ms from which a refresh is due; absent when there is nothing to refresh. */
  refreshDueAt: z.optional(z.number()),
  authError: z.optional(AuthErrorSchema),
  /** Where the credentials came from. */
  source: z.union([StorageKindSchema, z.literal('none')]),
  storage: StorageKindSchema,
  storageWarning: z.optional(z.string()),
  /** Identity of the stored record the snapshot was built from (changes when it is rewritten). */
  fingerprint: z.string(),
});
export type AuthSnapshot = z.infer<typeof AuthSnapshotSchema>;

export const RefreshFailureCodeSchema = z.enum([
  // Permanent: the refresh token is dead; the person has to sign in again.
  'refresh_token_expired',
  'refresh_token_reused',
  'refresh_token_invalidated',
  'refresh_failed_permanently',
  // Transient: retried; a still-valid access token keeps being served meanwhile.
  'refresh_timeout',
  'refresh_unavailable',
  // The stored record is not (or no longer) the one the refresh was for.
  'account_changed',
  'credentials_changed',
  'not_chatgpt',
  // The server is stopping; no new request was sent.
  'refresh_stopped',
  // The issuer rotated the tokens but they could not be written: the outcome carries them
  // (`unsaved`), the main thread serves them and keeps trying to write them.
  'persist_failed',
]);
export type RefreshFailureCode = z.infer<typeof RefreshFailureCodeSchema>;

/** Failures after which the stored tokens must not be served: only a new sign-in helps. */
export const NEEDS_SIGN_IN: ReadonlySet<RefreshFailureCode> = new Set([
  'refresh_token_expired',
  'refresh_token_reused',
  'refresh_token_invalidated',
  'refresh_failed_permanently',
]);

export const RefreshOutcomeSchema = z.discriminatedUnion('ok', [
  z.object({
    ok: z.literal(true),
    /** `network`: we rotated the tokens; `adopted`: another process had already done it; `not_due`: nothing to do. */
    via: z.enum(['network', 'adopted', 'not_due']),
    snapshot: AuthSnapshotSchema,
  }),
  z.object({
    ok: z.literal(false),
    code: RefreshFailureCodeSchema,
    message: z.string(),
    /** Trying again (now or later) cannot help; false for transient failures. */
    permanent: z.boolean(),
    /** The issuer's Retry-After, when it asked for a longer pause than a refresh waits. */
    retryAfterMs: z.optional(z.number().check(z.nonnegative())),
    /** The stored record as the token service last read it (for persist_failed: the unsaved one). */
    snapshot: AuthSnapshotSchema,
    /** persist_failed: the rotated record nobody else has, and the stored record it replaces. */
    unsaved: z.optional(z.object({ record: AuthRecordSchema, basedOn: z.string() })),
  }),
]);
export type RefreshOutcome = z.infer<typeof RefreshOutcomeSchema>;
