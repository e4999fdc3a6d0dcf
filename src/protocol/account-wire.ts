/**
 * The v2 account API on the wire, in the shapes of Codex 0.171's app-server (field lists taken
 * from `codex app-server generate-ts --experimental` of 0.171.0). Each schema is the single
 * definition of its type; fields beyond 0.171's are marked as ours.
 */
import * as z from './zod.js';
import { AuthErrorSchema, RevokeErrorSchema } from './auth-wire.js';
import { StorageKindSchema } from './storage.js';

export const PLAN_TYPES = [
  'free', 'go', 'plus', 'pro', 'prolite', 'promax', 'team', 'self_serve_business_prolite', 'self_serve_business_usage_based',
  'business', 'ent26', 'enterprise_cbp_automation', 'enterprise_cbp_usage_based', 'enterprise', 'edu', 'edu_plus', 'edu_pro',
  'sci', 'sci_plus', 'unknown',
] as const;
export const PlanTypeSchema = z.enum(PLAN_TYPES);
export type PlanType = z.infer<typeof PlanTypeSchema>;

const PLAN_ALIASES: Record<string, PlanType> = { hc: 'enterprise', education: 'edu' };

/** A plan type as 0.171 reports it (aliases resolved; anything it does not know is 'unknown'). Used by the main thread and the workers alike. */
export function v2PlanType(raw: string | undefined): PlanType {
  const plan = raw?.toLowerCase() ?? 'unknown';
  return PLAN_ALIASES[plan] ?? ((PLAN_TYPES as readonly string[]).includes(plan) ? (plan as PlanType) : 'unknown');
}

/** 0.171's `AuthMode` values that this server can put in force. */
export const V2AuthModeSchema = z.enum(['apikey', 'chatgpt']);

export const AccountSchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('apiKey') }),
  z.object({ type: z.literal('chatgpt'), email: z.nullable(z.string()), planType: PlanTypeSchema, workspaceName: z.nullable(z.string()) }),
]);
export type V2Account = z.infer<typeof AccountSchema>;

export const AccountReadParamsSchema = z.object({ refreshToken: z.optional(z.boolean()) });

export const AccountLoginStartParamsSchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('apiKey'), apiKey: z.string().check(z.minLength(1)) }),
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
export const AccountLogoutParamsSchema = z.pipe(
  z.transform((value) => (value && typeof value === 'object' && !Array.isArray(value) ? value : {})),
  z.object({ revoke: z.optional(z.boolean()) }),
);

export const AccountReadResultSchema = z.object({
  account: z.nullable(AccountSchema),
  userId: z.nullable(z.string()),
  requiresOpenaiAuth: z.boolean(),
  /** Found by 0.171 from the ChatGPT backend; this server does not call it, so always null. */
  workspaceRouting: z.null(),
  // Ours: why stored credentials cannot be used, and where they are.
  authError: z.optional(AuthErrorSchema),
  storage: z.optional(StorageKindSchema),
  storageWarning: z.optional(z.string()),
  /** Ours, when signed out: the CODEX_HOME read and how it was chosen (see where-we-looked.ts). */
  codexHome: z.optional(z.object({ path: z.string(), source: z.enum(['env', 'default']) })),
});
export type AccountReadResult = z.infer<typeof AccountReadResultSchema>;

export const AccountLogoutResultSchema = z.object({
  // Ours (0.171 answers `{}`): whether the issuer confirmed the revocation, and why it did not.
  revoked: z.boolean(),
  revokeError: z.optional(RevokeErrorSchema),
});
export type AccountLogoutResult = z.infer<typeof AccountLogoutResultSchema>;

export const AccountUpdatedParamsSchema = z.object({
  authMode: z.nullable(V2AuthModeSchema),
  planType: z.nullable(PlanTypeSchema),
  /** 0.171 sets `workspaceRoutingReady` after its backend discovery, which we do not do. */
  reason: z.nullable(z.enum(['workspaceRoutingReady', 'unknown'])),
});
export type AccountUpdatedParams = z.infer<typeof AccountUpdatedParamsSchema>;

export const AccountLoginCompletedParamsSchema = z.object({
  loginId: z.nullable(z.string()),
  success: z.boolean(),
  error: z.nullable(z.string()),
  onboardingEntrypoint: z.nullable(z.literal('life_sciences')),
  /** Ours: a machine-readable reason when `success` is false. */
  errorCode: z.optional(z.string()),
});
export type AccountLoginCompletedParams = z.infer<typeof AccountLoginCompletedParamsSchema>;

// ── Several accounts: `accountSession/list` and `accountSession/switch` (0.171, experimental) ──

export const AccountSessionWorkspaceSchema = z.object({
  accountId: z.string(),
  name: z.nullable(z.string()),
  imageUrl: z.nullable(z.string()),
  kind: z.nullable(z.enum(['personal', 'workspace'])),
});

export const AccountSessionSchema = z.object({
  /** Opaque; the same account always gets the same id (a hash of its user id). */
  sessionId: z.string(),
  email: z.nullable(z.string()),
  userId: z.nullable(z.string()),
  displayName: z.nullable(z.string()),
  imageUrl: z.nullable(z.string()),
  /** Epoch seconds (0.171's i64). */
  lastUsedAt: z.number(),
  isActive: z.boolean(),
  selectedWorkspaceAccountId: z.nullable(z.string()),
  workspaces: z.array(AccountSessionWorkspaceSchema),
  /** Ours: the plan the session's id token names (0.171 lists it per workspace from its backend). */
  planType: z.optional(z.nullable(PlanTypeSchema)),
  /** Ours: the session's refresh token was refused; switching to it needs a new sign-in. */
  needsSignIn: z.optional(z.boolean()),
});
export type AccountSession = z.infer<typeof AccountSessionSchema>;

export const AccountSessionsResponseSchema = z.object({
  activeSessionId: z.nullable(z.string()),
  sessions: z.array(AccountSessionSchema),
});
export type AccountSessionsResponse = z.infer<typeof AccountSessionsResponseSchema>;

/** `refreshWorkspaceMetadata` asks 0.171 to call its backend; we have no backend, so it changes nothing. */
export const AccountSessionsListParamsSchema = z.pipe(
  z.transform((value) => (value && typeof value === 'object' && !Array.isArray(value) ? value : {})),
  z.object({ refreshWorkspaceMetadata: z.optional(z.boolean()) }),
);

export const AccountSessionsSwitchParamsSchema = z.object({
  sessionId: z.string(),
  /** The workspace to select within that login (not a user id). */
  accountId: z.string(),
  /** Start a browser sign-in when the session cannot be used without one. */
  allowBrowserLogin: z.optional(z.boolean()),
});

export const AccountSessionsSwitchResultSchema = z.union([
  AccountSessionsResponseSchema,
  z.object({ loginId: z.string(), authUrl: z.string() }),
]);
export type AccountSessionsSwitchResult = z.infer<typeof AccountSessionsSwitchResultSchema>;
