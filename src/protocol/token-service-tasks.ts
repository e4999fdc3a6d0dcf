/** The tasks the main thread sends to the token service pool (plain data, structured-cloned). */
import { z } from 'zod';
import { StoreOptionsSchema } from './storage.js';

export const ValidateTaskSchema = z.object({
  store: StoreOptionsSchema,
});
export type ValidateTask = z.infer<typeof ValidateTaskSchema>;

export const RefreshTaskSchema = ValidateTaskSchema.extend({
  issuer: z.string(),
  /** Fingerprint of the stored record the caller's snapshot was built from. */
  basedOn: z.string(),
  /** The account the caller believes it is refreshing; a different one on disk is never adopted. */
  accountId: z.string().optional(),
  /** Refresh even when the tokens are not yet due (getAuthStatus {refreshToken: true}). */
  force: z.boolean(),
  /** Hard timeout of one attempt (one POST); the default is ATTEMPT_TIMEOUT_MS. */
  attemptTimeoutMs: z.number().positive().optional(),
  /** Backoff between transient failures (tests shorten it); see refresh-request.ts. */
  baseDelayMs: z.number().nonnegative().optional(),
  /** The RefreshControl words shared with the main thread (absent: nobody else steers this refresh). */
  control: z.custom<SharedArrayBuffer>((value) => value instanceof SharedArrayBuffer).optional(),
});
export type RefreshTask = z.infer<typeof RefreshTaskSchema>;

export const RevokeTaskSchema = z.object({
  store: StoreOptionsSchema,
  issuer: z.string(),
  timeoutMs: z.number().positive().optional(),
});
export type RevokeTask = z.infer<typeof RevokeTaskSchema>;

export const RevokeOutcomeSchema = z.discriminatedUnion('ok', [
  z.object({ ok: z.literal(true), revoked: z.boolean() }),
  z.object({ ok: z.literal(false), code: z.enum(['revoke_rejected', 'revoke_timeout', 'revoke_unreachable', 'revoke_unavailable']), message: z.string() }),
]);
export type RevokeOutcome = z.infer<typeof RevokeOutcomeSchema>;
