/**
 * The 0.25 auth surface on the wire: params and results of the v1 methods and the two
 * `codex/event/*` notifications. Each schema is the single definition of its type.
 */
import * as z from './zod.js';
import { StorageKindSchema } from './storage.js';

export const AuthMethodSchema = z.enum(['apikey', 'chatgpt']);
export type AuthMethod = z.infer<typeof AuthMethodSchema>;

/** Beyond the original: why credentials that exist cannot be used. */
export const AuthErrorSchema = z.object({ code: z.string(), message: z.string() });
export type AuthError = z.infer<typeof AuthErrorSchema>;

/** For methods whose params codex ignores: anything that is not an object reads as `{}`. */
const objectOrEmpty = (value: unknown) =>
  value !== null && typeof value === 'object' && !Array.isArray(value) ? value : {};

// codex's params are `Option<bool>`: an explicit null is accepted and means "not set".
export const GetAuthStatusParamsSchema = z.object({
  includeToken: z.nullish(z.boolean()),
  refreshToken: z.nullish(z.boolean()),
});

export const GetAuthStatusResultSchema = z.object({
  authMethod: z.optional(AuthMethodSchema),
  preferredAuthMethod: AuthMethodSchema,
  authToken: z.optional(z.string()),
  authError: z.optional(AuthErrorSchema),
  storage: z.optional(StorageKindSchema),
  storageWarning: z.optional(z.string()),
});
export type GetAuthStatusResult = z.infer<typeof GetAuthStatusResultSchema>;

export const LogoutParamsSchema = z.pipe(
  z.transform(objectOrEmpty),
  z.object({ revoke: z.optional(z.boolean()) }),
);

/** Why a logout's revocation failed; the credentials were removed here all the same. */
export const RevokeErrorSchema = z.object({ code: z.string(), message: z.string() });
export type RevokeError = z.infer<typeof RevokeErrorSchema>;
/** 0.25 answers `{}` and 0.171 `{}` too; both fields are extras a client may ignore. */
export const LogoutResultSchema = z.object({ revoked: z.boolean(), revokeError: z.optional(RevokeErrorSchema) });
export type LogoutResult = z.infer<typeof LogoutResultSchema>;

export const LoginChatGptParamsSchema = z.pipe(z.transform(objectOrEmpty), z.object({}));
export const LoginChatGptResultSchema = z.object({ loginId: z.uuid(), authUrl: z.string() });
export type LoginChatGptResult = z.infer<typeof LoginChatGptResultSchema>;

export const CancelLoginChatGptParamsSchema = z.object({ loginId: z.uuid() });

export const LoginApiKeyParamsSchema = z.object({ apiKey: z.string().check(z.minLength(1)) });

/** Machine-readable reasons a login ended without success (beyond the original's free text). */
export const LoginErrorCodeSchema = z.enum([
  'cancelled',
  'timed_out',
  'port_unavailable',
  'state_mismatch',
  'access_denied',
  'token_exchange_failed',
  'persist_failed',
  'superseded',
  'expired',
  'device_code_unsupported',
  'device_code_failed',
  /** The sign-in came back with a workspace forced_chatgpt_workspace_id does not allow; nothing was stored. */
  'workspace_forbidden',
  /** The login worker stopped unexpectedly; the login is gone and may simply be started again. */
  'internal_error',
]);
export type LoginErrorCode = z.infer<typeof LoginErrorCodeSchema>;

export const AuthStatusChangeParamsSchema = z.object({ authMethod: z.optional(AuthMethodSchema) });
export type AuthStatusChangeParams = z.infer<typeof AuthStatusChangeParamsSchema>;

export const LoginChatGptCompleteParamsSchema = z.object({
  loginId: z.string(),
  success: z.boolean(),
  error: z.optional(z.string()),
  errorCode: z.optional(LoginErrorCodeSchema),
});
export type LoginChatGptCompleteParams = z.infer<typeof LoginChatGptCompleteParamsSchema>;
