/**
 * The v2 account API on the wire, in the shapes of Codex 0.171's app-server (field lists taken
 * from `codex app-server generate-ts --experimental` of 0.171.0). Each schema is the single
 * definition of its type; fields beyond 0.171's are marked as ours.
 */
import { z } from 'zod';
import { AuthErrorSchema, RevokeErrorSchema } from './auth-wire.js';
import { StorageKindSchema } from './storage.js';

export const PLAN_TYPES = [
  'free', 'go', 'plus', 'pro', 'prolite', 'promax', 'team', 'self_serve_business_prolite', 'self_serve_business_usage_based',
  'business', 'ent26', 'enterprise_cbp_automation', 'enterprise_cbp_usage_based', 'enterprise', 'edu', 'edu_plus', 'edu_pro',
  'sci', 'sci_plus', 'unknown',
] as const;
export const PlanTypeSchema = z.enum(PLAN_TYPES);
export type PlanType = z.infer<typeof PlanTypeSchema>;

/** 0.171's `AuthMode` values that this server can put in force. */
export const V2AuthModeSchema = z.enum(['apikey', 'chatgpt']);

export const AccountSchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('apiKey') }),
  z.object({ type: z.literal('chatgpt'), email: z.string().nullable(), planType: PlanTypeSchema, workspaceName: z.string().nullable() }),
]);
export type V2Account = z.infer<typeof AccountSchema>;

export const AccountReadParamsSchema = z.object({ refreshToken: z.boolean().optional() });

export const AccountLoginStartParamsSchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('apiKey'), apiKey: z.string().min(1) }),
  z.object({ type: z.literal('chatgpt') }),
  z.object({ type: z.literal('chatgptDeviceCode') }),
]);

export const AccountLoginStartResultSchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('apiKey') }),
  z.object({ type: z.literal('chatgpt'), loginId: z.string(), authUrl: z.string() }),
  z.object({ type: z.literal('chatgptDeviceCode'), loginId: z.string(), verificationUrl: z.string(), userCode: z.string() }),
]);
export type AccountLoginStartResult = z.infer<typeof AccountLoginStartResultSchema>;

/** Any string: codex answers a loginId that is not a UUID with -32600 (in the handler), not -32602. */
export const AccountLoginCancelParamsSchema = z.object({ loginId: z.string() });
export const AccountLoginCancelResultSchema = z.object({ status: z.enum(['canceled', 'notFound']) });
export type AccountLoginCancelResult = z.infer<typeof AccountLoginCancelResultSchema>;

/** codex takes no params; anything that is not an object reads as `{}`. `revoke` is ours. */
export const AccountLogoutParamsSchema = z.preprocess(
  (value) => (value && typeof value === 'object' && !Array.isArray(value) ? value : {}),
  z.object({ revoke: z.boolean().optional() }),
);

export const AccountReadResultSchema = z.object({
  account: AccountSchema.nullable(),
  userId: z.string().nullable(),
  requiresOpenaiAuth: z.boolean(),
  /** Found by 0.171 from the ChatGPT backend; this server does not call it, so always null. */
  workspaceRouting: z.null(),
  // Ours: why stored credentials cannot be used, and where they are.
  authError: AuthErrorSchema.optional(),
  storage: StorageKindSchema.optional(),
  storageWarning: z.string().optional(),
});
export type AccountReadResult = z.infer<typeof AccountReadResultSchema>;

export const AccountLogoutResultSchema = z.object({
  // Ours (0.171 answers `{}`): whether the issuer confirmed the revocation, and why it did not.
  revoked: z.boolean(),
  revokeError: RevokeErrorSchema.optional(),
});
export type AccountLogoutResult = z.infer<typeof AccountLogoutResultSchema>;

export const AccountUpdatedParamsSchema = z.object({
  authMode: V2AuthModeSchema.nullable(),
  planType: PlanTypeSchema.nullable(),
  /** 0.171 sets `workspaceRoutingReady` after its backend discovery, which we do not do. */
  reason: z.enum(['workspaceRoutingReady', 'unknown']).nullable(),
});
export type AccountUpdatedParams = z.infer<typeof AccountUpdatedParamsSchema>;

export const AccountLoginCompletedParamsSchema = z.object({
  loginId: z.string().nullable(),
  success: z.boolean(),
  error: z.string().nullable(),
  onboardingEntrypoint: z.literal('life_sciences').nullable(),
  /** Ours: a machine-readable reason when `success` is false. */
  errorCode: z.string().optional(),
});
export type AccountLoginCompletedParams = z.infer<typeof AccountLoginCompletedParamsSchema>;
