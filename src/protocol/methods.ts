/**
 * The whole wire in one table: every method this server answers, with its params and result
 * schemas, and every notification it sends, with its params schema — as codex's `ClientRequest`
 * and `ServerNotification` enums list theirs. The dispatcher parses params with these schemas and
 * types each handler from its entry (a method without a handler, or a handler for a name not
 * here, does not compile); the notifier sends only what is listed here. Results are checked
 * against their schemas in the tests, not on the hot path.
 *
 * The schemas themselves live beside their kin: MCP (mcp-wire.ts), the 0.25 auth surface
 * (auth-wire.ts), the v2 account API of codex app-server (account-wire.ts).
 */
import * as z from './zod.js';
import * as Account from './account-wire.js';
import * as Auth from './auth-wire.js';
import * as Mcp from './mcp-wire.js';

export interface MethodEntry {
  readonly params: z.ZodMiniType;
  readonly result: z.ZodMiniType;
}

const entry = <P extends z.ZodMiniType, R extends z.ZodMiniType>(params: P, result: R) => ({ params, result });

export const Methods = {
  // MCP, initialize era (2024-11-05 .. 2025-11-25): the handshake, ping, the log level (2026-07-28
  // sets it per request in `_meta`), resource subscriptions
  initialize: entry(Mcp.InitializeParamsSchema, Mcp.InitializeResultSchema),
  ping: entry(Mcp.AnyParamsSchema, Mcp.EmptyResultSchema),
  'logging/setLevel': entry(Mcp.SetLevelParamsSchema, Mcp.EmptyResultSchema),
  'resources/subscribe': entry(Mcp.ResourceUriParamsSchema, Mcp.EmptyResultSchema),
  'resources/unsubscribe': entry(Mcp.ResourceUriParamsSchema, Mcp.EmptyResultSchema),
  // MCP, stateless era (2026-07-28): discovery and the notification stream
  'server/discover': entry(Mcp.DiscoverParamsSchema, Mcp.DiscoverResultSchema),
  'subscriptions/listen': entry(Mcp.SubscriptionsListenParamsSchema, Mcp.SubscriptionsListenResultSchema),
  // MCP, both eras (modern results also carry resultType, ttlMs and cacheScope)
  'tools/list': entry(Mcp.ListParamsSchema, Mcp.ToolsListResultSchema),
  'tools/call': entry(Mcp.ToolCallParamsSchema, z.union([Mcp.ToolResultSchema, Mcp.InputRequiredResultSchema])),
  'resources/list': entry(Mcp.ListParamsSchema, Mcp.ResourcesListResultSchema),
  'resources/read': entry(Mcp.ReadResourceParamsSchema, Mcp.ReadResourceResultSchema),
  'resources/templates/list': entry(Mcp.ListParamsSchema, Mcp.ResourceTemplatesListResultSchema),
  'prompts/list': entry(Mcp.ListParamsSchema, Mcp.PromptsListResultSchema),
  // The auth surface of codex 0.25 (`codex mcp`)
  getAuthStatus: entry(Auth.GetAuthStatusParamsSchema, Auth.GetAuthStatusResultSchema),
  loginChatGpt: entry(Auth.LoginChatGptParamsSchema, Auth.LoginChatGptResultSchema),
  cancelLoginChatGpt: entry(Auth.CancelLoginChatGptParamsSchema, Mcp.EmptyResultSchema),
  loginApiKey: entry(Auth.LoginApiKeyParamsSchema, Mcp.EmptyResultSchema),
  logoutChatGpt: entry(Auth.LogoutParamsSchema, Auth.LogoutResultSchema),
  // The v2 account API of codex app-server 0.171
  'account/read': entry(Account.AccountReadParamsSchema, Account.AccountReadResultSchema),
  'account/login/start': entry(Account.AccountLoginStartParamsSchema, Account.AccountLoginStartResultSchema),
  'account/login/cancel': entry(Account.AccountLoginCancelParamsSchema, Account.AccountLoginCancelResultSchema),
  'account/logout': entry(Account.AccountLogoutParamsSchema, Account.AccountLogoutResultSchema),
  // Several accounts (0.171's experimental account sessions)
  'accountSession/list': entry(Account.AccountSessionsListParamsSchema, Account.AccountSessionsResponseSchema),
  'accountSession/switch': entry(Account.AccountSessionsSwitchParamsSchema, Account.AccountSessionsSwitchResultSchema),
} as const satisfies Record<string, MethodEntry>;

export type ServerMethods = typeof Methods;
export type MethodName = keyof ServerMethods;

export const Notifications = {
  // MCP: on a subscriptions/listen stream (modern) or to a resources/subscribe caller (legacy)
  'notifications/subscriptions/acknowledged': Mcp.SubscriptionsAcknowledgedParamsSchema,
  'notifications/resources/updated': Mcp.ResourceUpdatedParamsSchema,
  // MCP logging: after logging/setLevel (initialize era), or to a request with `_meta` logLevel (2026-07-28)
  'notifications/message': Mcp.LoggingMessageParamsSchema,
  // MCP 2025-11-25: the out-of-band part of a URL-mode elicitation finished
  'notifications/elicitation/complete': Mcp.ElicitationCompleteParamsSchema,
  // codex 0.25 and codex app-server 0.171
  'codex/event/auth_status_change': Auth.AuthStatusChangeParamsSchema,
  'codex/event/login_chat_gpt_complete': Auth.LoginChatGptCompleteParamsSchema,
  'account/updated': Account.AccountUpdatedParamsSchema,
  'account/login/completed': Account.AccountLoginCompletedParamsSchema,
} as const satisfies Record<string, z.ZodMiniType>;

export type NotificationName = keyof typeof Notifications;

/** Requests this server sends to a client: only to an initialize-era client (the modern era forbids them on stdio). */
export const ServerRequests = {
  'elicitation/create': entry(Mcp.LegacyUrlElicitParamsSchema, Mcp.ElicitResultSchema),
} as const satisfies Record<string, MethodEntry>;
export type NotificationParams<N extends NotificationName> = z.infer<(typeof Notifications)[N]>;
