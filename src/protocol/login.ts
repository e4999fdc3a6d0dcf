/**
 * Messages between the main thread's login engine and the login worker. Each crosses the thread
 * boundary as plain data and is validated on arrival.
 */
import * as z from './zod.js';
import { LoginErrorCodeSchema } from './auth-wire.js';
import { StoreOptionsSchema } from './storage.js';

export const CLIENT_ID = 'app_EMoamEEZ73f0CkXaXp7hrann';
/** The real issuer only allows these two callback ports. */
export const DEFAULT_CALLBACK_PORT = 1455;
export const FALLBACK_CALLBACK_PORT = 1457;

export const StartBrowserLoginSchema = z.object({
  loginId: z.uuid(),
  issuer: z.string(),
  clientId: z.string(),
  port: z.int().check(z.minimum(0), z.maximum(65535)),
  timeoutMs: z.number().check(z.positive()),
  store: StoreOptionsSchema,
  /** Who is expected to sign in (`login_hint`): a session being signed in again. */
  loginHint: z.optional(z.string()),
  /** The workspace to sign in to (`allowed_workspace_id`, as Codex 0.171 sends to switch workspaces). */
  allowedWorkspaceId: z.optional(z.string()),
  /** forced_chatgpt_workspace_id (with requirements.toml): sent as `allowed_workspace_id`, and a sign-in to another workspace is refused. */
  forcedWorkspaceIds: z.optional(z.array(z.string())),
  /** The `originator` parameter (see workers/login/pkce.ts). */
  originator: z.optional(z.string()),
});
export type StartBrowserLogin = z.infer<typeof StartBrowserLoginSchema>;

export const StartBrowserLoginResultSchema = z.discriminatedUnion('ok', [
  z.object({ ok: z.literal(true), authUrl: z.string(), port: z.int() }),
  z.object({ ok: z.literal(false), code: z.literal('port_unavailable'), message: z.string() }),
]);
export type StartBrowserLoginResult = z.infer<typeof StartBrowserLoginResultSchema>;

export const StartDeviceLoginSchema = z.object({
  loginId: z.uuid(),
  issuer: z.string(),
  clientId: z.string(),
  timeoutMs: z.number().check(z.positive()),
  store: StoreOptionsSchema,
  forcedWorkspaceIds: z.optional(z.array(z.string())),
});
export type StartDeviceLogin = z.infer<typeof StartDeviceLoginSchema>;

export const StartDeviceLoginResultSchema = z.discriminatedUnion('ok', [
  z.object({ ok: z.literal(true), verificationUrl: z.string(), userCode: z.string() }),
  z.object({ ok: z.literal(false), code: z.enum(['device_code_unsupported', 'device_code_failed']), message: z.string() }),
]);
export type StartDeviceLoginResult = z.infer<typeof StartDeviceLoginResultSchema>;

/**
 * How a sign-in ended: the one shape from the login worker's event, through the login engine, to
 * the notifications (`codex/event/login_chat_gpt_complete`, `account/login/completed`).
 */
export const LoginEndedSchema = z.object({
  /** null for a sign-in that has no id (an API key). */
  loginId: z.nullable(z.string()),
  success: z.boolean(),
  error: z.optional(z.string()),
  errorCode: z.optional(LoginErrorCodeSchema),
});
export type LoginEnded = z.infer<typeof LoginEndedSchema>;

/** Sent by the worker while a login runs. `persisting` comes (and is awaited) before auth.json is written. */
export const LoginWorkerEventSchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('persisting'), loginId: z.string() }),
  z.extend(LoginEndedSchema, { type: z.literal('ended'), loginId: z.string() }),
]);
export type LoginWorkerEvent = z.infer<typeof LoginWorkerEventSchema>;

/** What the worker exposes through comlink. */
export interface LoginWorkerApi {
  startBrowserLogin(request: StartBrowserLogin, onEvent: (event: LoginWorkerEvent) => Promise<void>): Promise<StartBrowserLoginResult>;
  startDeviceLogin(request: StartDeviceLogin, onEvent: (event: LoginWorkerEvent) => Promise<void>): Promise<StartDeviceLoginResult>;
  /** Ends a running login; resolves once its listener is closed. False when no such login runs. */
  cancel(loginId: string, reason: 'cancelled' | 'superseded'): Promise<boolean>;
  /** Ends every login and closes every listener. */
  stop(): Promise<void>;
}

/** The text codex 0.25 sends when a login ends without completing (cancel, supersede, shutdown). */
export const NOT_COMPLETED_ERROR = 'Login server error: Login was not completed';
export const TIMED_OUT_ERROR = 'Login timed out';
/** codex's text for a device code nobody entered in time ("… after 15 minutes" with the default). */
export const deviceExpiredError = (timeoutMs: number) => {
  const minutes = timeoutMs / 60_000;
  const span = Number.isInteger(minutes) ? `${minutes} minute${minutes === 1 ? '' : 's'}` : `${timeoutMs / 1000} seconds`;
  return `device auth timed out after ${span}`;
};
