/** The tasks the main thread sends to the token service pool (plain data, structured-cloned), and what each answers: the table at the end. */
import * as z from './zod.js';
import { AccountSessionsResponseSchema } from './account-wire.js';
import { LoginRestrictionsSchema } from './login-restrictions.js';
import { AuthSnapshotSchema, RefreshOutcomeSchema } from './snapshot.js';
import { StoreOptionsSchema } from './storage.js';
import { AuthRecordSchema } from './auth-record.js';

export const ValidateTaskSchema = z.object({
  store: StoreOptionsSchema,
  /** Who may be signed in (forced_login_method, forced_chatgpt_workspace_id): a forbidden credential is not in force. */
  restrictions: z.optional(LoginRestrictionsSchema),
});
export type ValidateTask = z.infer<typeof ValidateTaskSchema>;

export const RefreshTaskSchema = z.extend(ValidateTaskSchema, {
  issuer: z.string(),
  /** Fingerprint of the stored record the caller's snapshot was built from. */
  basedOn: z.string(),
  /** The account the caller believes it is refreshing; a different one on disk is never adopted. */
  accountId: z.optional(z.string()),
  /** Refresh even when the tokens are not yet due (getAuthStatus {refreshToken: true}). */
  force: z.boolean(),
  /** Hard timeout of one attempt (one POST); the default is ATTEMPT_TIMEOUT_MS. */
  attemptTimeoutMs: z.optional(z.number().check(z.positive())),
  /** Backoff between transient failures (tests shorten it); see refresh-request.ts. */
  baseDelayMs: z.optional(z.number().check(z.nonnegative())),
  /** The RefreshControl words shared with the main thread (absent: nobody else steers this refresh). */
  control: z.optional(z.custom<SharedArrayBuffer>((value) => value instanceof SharedArrayBuffer)),
});
export type RefreshTask = z.infer<typeof RefreshTaskSchema>;

export const RevokeTaskSchema = z.object({
  store: StoreOptionsSchema,
  issuer: z.string(),
  timeoutMs: z.optional(z.number().check(z.positive())),
  /** false: only say what a revocation would revoke now (a logout that keeps the tokens at the issuer). */
  send: z.optional(z.boolean()),
});
export type RevokeTask = z.infer<typeof RevokeTaskSchema>;

/** The stored record a logout revoked (or would have): it deletes that record and no other. */
export const RevokeTargetSchema = z.object({
  fingerprint: z.string(),
  /** The account session it belongs to, when its id token names one. */
  sessionId: z.nullable(z.string()),
});
export type RevokeTarget = z.infer<typeof RevokeTargetSchema>;

export const RevokeFailureCodeSchema = z.enum(['revoke_rejected', 'revoke_timeout', 'revoke_unreachable', 'revoke_unavailable']);

export const RevokeOutcomeSchema = z.discriminatedUnion('ok', [
  z.object({ ok: z.literal(true), revoked: z.boolean(), target: z.optional(RevokeTargetSchema) }),
  z.object({ ok: z.literal(false), code: RevokeFailureCodeSchema, message: z.string(), target: z.optional(RevokeTargetSchema) }),
]);
export type RevokeOutcome = z.infer<typeof RevokeOutcomeSchema>;

// ── Account sessions (workers/token-service/session-tasks.ts) ──

export const ListSessionsTaskSchema = ValidateTaskSchema;
export type ListSessionsTask = z.infer<typeof ListSessionsTaskSchema>;

export const SwitchSessionTaskSchema = z.extend(ValidateTaskSchema, {
  issuer: z.string(),
  sessionId: z.string(),
  accountId: z.string(),
  attemptTimeoutMs: z.optional(z.number().check(z.positive())),
});
export type SwitchSessionTask = z.infer<typeof SwitchSessionTaskSchema>;

export const RemoveSessionTaskSchema = z.extend(ValidateTaskSchema, {
  sessionId: z.string(),
  /** Revoke the removed inactive session's tokens at this issuer (best effort, after the lock); absent: keep them live. */
  revokeAt: z.optional(z.string()),
  revokeTimeoutMs: z.optional(z.number().check(z.positive())),
});
export type RemoveSessionTask = z.infer<typeof RemoveSessionTaskSchema>;

export const RefreshInactiveTaskSchema = z.extend(ValidateTaskSchema, {
  issuer: z.string(),
  /** Refresh an inactive session whose tokens were last refreshed longer ago than this. */
  olderThanMs: z.number().check(z.nonnegative()),
  attemptTimeoutMs: z.optional(z.number().check(z.positive())),
  /** RefreshControl words: at shutdown the main thread stops the pass and waits for the refresh in flight to be written. */
  control: z.optional(z.custom<SharedArrayBuffer>((value) => value instanceof SharedArrayBuffer)),
});
export type RefreshInactiveTask = z.infer<typeof RefreshInactiveTaskSchema>;

export const SessionFailureCodeSchema = z.enum([
  'session_not_found',
  /** The session's refresh token was refused: only a new sign-in brings it back. */
  'session_needs_sign_in',
  /** The session holds no tokens for that workspace: a sign-in to it is needed. */
  'workspace_needs_sign_in',
  'refresh_unavailable',
  'vault_unavailable',
  /** An API key is in force: it is not an account session, and a switch would overwrite it. */
  'api_key_in_force',
  /** forced_login_method or forced_chatgpt_workspace_id forbids the session's sign-in. */
  'forbidden_by_config',
]);
export type SessionFailureCode = z.infer<typeof SessionFailureCodeSchema>;

/**
 * Rotated tokens of an inactive session that the account store could not take (a full disk, a
 * keyring refusing): the only copy of its live refresh token. The main thread holds them and
 * writes them again (InactiveSessionRefresher), in place of the spent refresh token `basedOn`.
 */
export const UnsavedSessionSchema = z.object({ sessionId: z.string(), record: AuthRecordSchema, basedOn: z.string() });
export type UnsavedSession = z.infer<typeof UnsavedSessionSchema>;

export const SessionOutcomeSchema = z.discriminatedUnion('ok', [
  z.object({
    ok: z.literal(true),
    sessions: AccountSessionsResponseSchema,
    /** switch: whether the active account changed; remove: whether a session was removed. */
    changed: z.boolean(),
    /** remove: the session was the active one (the caller signs it out). */
    wasActive: z.optional(z.boolean()),
    /** remove with revokeAt: whether the issuer confirmed the revocation of the removed tokens. */
    revoked: z.optional(z.boolean()),
    revokeError: z.optional(z.object({ code: RevokeFailureCodeSchema, message: z.string() })),
  }),
  z.object({
    ok: z.literal(false),
    code: SessionFailureCodeSchema,
    message: z.string(),
    /** For a sign-in that would bring the session back: whom to hint, which workspace. */
    email: z.optional(z.nullable(z.string())),
    workspaceId: z.optional(z.nullable(z.string())),
    /** switch: the target was refreshed but its rotated tokens could not be stored. */
    unsaved: z.optional(UnsavedSessionSchema),
  }),
]);
export type SessionOutcome = z.infer<typeof SessionOutcomeSchema>;

export const RefreshInactiveOutcomeSchema = z.object({
  refreshed: z.number(),
  failed: z.array(z.object({ sessionId: z.string(), code: z.string() })),
  /** Refreshed, but not stored: the main thread holds them (the pass stops at the first). */
  unsaved: z.optional(z.array(UnsavedSessionSchema)),
});
export type RefreshInactiveOutcome = z.infer<typeof RefreshInactiveOutcomeSchema>;

// ── The task table ──

/**
 * Every task of the token service, by the name piscina calls it by: the schema of what is sent
 * and of what comes back. Both sides are built from it: the main thread's one `TokenService.run`
 * (src/auth/token-service-client.ts) parses each answer with `outcome`, and the worker
 * (workers/token-service/main.ts) parses each task with `task` and exports one function per name
 * (its type demands an implementation for each). A new task is one entry here and one
 * implementation there.
 */
export const TokenTasks = {
  validate: { task: ValidateTaskSchema, outcome: AuthSnapshotSchema },
  /**
   * Never aborted (aborting a piscina task kills its thread, and with rotation the new refresh
   * token would be lost); the RefreshControl in the task steers it instead.
   */
  refresh: { task: RefreshTaskSchema, outcome: RefreshOutcomeSchema },
  revoke: { task: RevokeTaskSchema, outcome: RevokeOutcomeSchema },
  listSessions: { task: ListSessionsTaskSchema, outcome: SessionOutcomeSchema },
  /** Like refresh, never aborted: a switch may rotate the target's refresh token. */
  switchSession: { task: SwitchSessionTaskSchema, outcome: SessionOutcomeSchema },
  removeSession: { task: RemoveSessionTaskSchema, outcome: SessionOutcomeSchema },
  refreshInactive: { task: RefreshInactiveTaskSchema, outcome: RefreshInactiveOutcomeSchema },
} as const satisfies Record<string, { task: z.ZodMiniType; outcome: z.ZodMiniType }>;

export type TokenTaskName = keyof typeof TokenTasks;
/** What is sent for task `K` (as the caller builds it). */
export type TokenTask<K extends TokenTaskName> = z.input<(typeof TokenTasks)[K]['task']>;
/** What task `K` answers. */
export type TokenOutcome<K extends TokenTaskName> = z.infer<(typeof TokenTasks)[K]['outcome']>;
