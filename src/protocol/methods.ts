/**
 * The whole wire in one table: every method this server answers, and everything about it — its
 * params and result schemas, the MCP eras it belongs to, its caching hint, and what it reads or
 * changes (the order of one client's answers) — as codex's `client_request_definitions!` lists
 * each method with its params, response and `serialization:` scope. Every notification it sends,
 * with its params schema, is listed below. The dispatcher parses params with these schemas and
 * types each handler from its entry (a method without a handler, or a handler for a name not
 * here, does not compile); the method pipeline (src/server/method-pipeline.ts) applies the rest;
 * the notifier sends only what is listed here. Results are checked against their schemas in the
 * tests, not on the hot path. docs/wire-reference.md is generated from this table
 * (scripts/wire-reference.mjs).
 *
 * The schemas themselves live beside their kin: MCP (mcp-wire.ts), the 0.25 auth surface
 * (auth-wire.ts), the v2 account API of codex app-server (account-wire.ts).
 */
import * as z from './zod.js';
import * as Account from './account-wire.js';
import * as Auth from './auth-wire.js';
import * as Mcp from './mcp-wire.js';

/**
 * Which MCP eras serve a method: `legacy` — the initialize era (2024-11-05 .. 2025-11-25) and
 * codex's own clients, whose requests carry no protocol version in `_meta`; `modern` — the
 * stateless 2026-07-28 revision. A method outside a request's era is refused (a legacy-only
 * method in a modern request is -32601, as the 2026-07-28 revision removed it).
 */
export type Era = 'legacy' | 'modern' | 'both';

/** SEP-2549 caching hints, put on a cacheable method's final result in the modern era. */
export interface CacheHint {
  readonly ttlMs: number;
  readonly cacheScope: 'public' | 'private';
}
/** The hint of a cacheable method that names none: stale at once, this client's only (the SDK v2's default). */
export const CONSERVATIVE_CACHE_HINT: CacheHint = Object.freeze({ ttlMs: 0, cacheScope: 'private' });
/** Lists and discovery describe this build only: anyone may keep them for an hour. */
const BUILD_FACTS: CacheHint = { ttlMs: 3_600_000, cacheScope: 'public' };

/**
 * The state a request reads and the state it changes, so one client's answers fit the order of
 * its requests (src/server/method-pipeline.ts): "auth" is the credentials in force (status reads
 * them; sign-in and logout change them), "login" the pending sign-in (starting, cancelling or
 * superseding one changes it). Two requests conflict when one writes what the other touches.
 */
export type OrderedState = 'auth' | 'login';
export interface Access {
  readonly reads?: readonly OrderedState[];
  readonly writes?: readonly OrderedState[];
  /**
   * false: the request waits for the earlier ones it conflicts with, but later ones do not wait
   * for it. For a read that may take long and reports the state as of its end (a status that
   * asks for a token refresh first): a logout must not hang behind a refresh that hangs.
   */
  readonly holdsLater?: boolean;
}
/** Touches no ordered state: runs at once. */
export const NONE: Access | undefined = undefined;
export const READS_AUTH: Access = { reads: ['auth'] };
/**
 * A status that refreshes the tokens first (`refreshToken: true`) reports the state as of the end
 * of that refresh, which may take up to refresh_timeout_secs: it waits for earlier changes, and
 * later ones go ahead without it (a logout during a hung refresh is not held back).
 */
export const REFRESHES_THEN_READS_AUTH: Access = { reads: ['auth'], holdsLater: false };
/** A sign-in stored at once or a logout: both also end a pending login. */
export const CHANGES_AUTH: Access = { writes: ['auth', 'login'] };
/** Starting or cancelling a browser or device-code sign-in: the credentials change later, when it completes. */
export const CHANGES_LOGIN: Access = { writes: ['login'] };
/** `tools/call`: each tool says what it touches (src/server/tools/index.ts, a required field of every tool). */
export const BY_TOOL = 'by tool';

/** What a method touches when it depends on the params; `description` says how (for the wire reference). */
export type AccessByParams<P> = ((params: P) => Access | undefined) & { readonly description: string };
const byParams = <P>(description: string, access: (params: P) => Access | undefined): AccessByParams<P> => Object.assign(access, { description });

/** What a method touches: fixed, a function of its params, or (tools/call) its tool's. */
export type AccessRule<P> = Access | undefined | AccessByParams<P> | typeof BY_TOOL;

/** Everything about a method besides its schemas; `eras` and `access` are required, so a new method must say them. */
export interface MethodPolicy<P> {
  readonly eras: Era;
  readonly access: AccessRule<P>;
  /**
   * The result may be kept by the client (modern era, SEP-2549): `true` for the conservative
   * default, or a hint. Interim (`input_required`) results never carry one.
   */
  readonly cache?: true | CacheHint;
  /** Calling it subscribes the client to the v2 account notifications, as codex app-server does. */
  readonly opensAccountEvents?: true;
}

export interface MethodEntry {
  readonly params: z.ZodMiniType;
  readonly result: z.ZodMiniType;
}

/** One method: its schemas and its policies, the cache hint resolved (a cacheable method without one gets the default). */
export interface ServerMethodEntry<P extends z.ZodMiniType = z.ZodMiniType, R extends z.ZodMiniType = z.ZodMiniType> extends MethodEntry {
  readonly params: P;
  readonly result: R;
  readonly eras: Era;
  readonly access: AccessRule<z.infer<P>>;
  readonly cache: CacheHint | undefined;
  readonly opensAccountEvents: boolean;
}

const method = <P extends z.ZodMiniType, R extends z.ZodMiniType>(params: P, result: R, policy: MethodPolicy<z.infer<P>>): ServerMethodEntry<P, R> => ({
  params,
  result,
  eras: policy.eras,
  access: policy.access,
  cache: policy.cache === true ? CONSERVATIVE_CACHE_HINT : policy.cache,
  opensAccountEvents: policy.opensAccountEvents === true,
});

const statusRead = byParams('reads auth; with refreshToken: true, later requests do not wait for it', (params: { refreshToken?: boolean | null | undefined }) =>
  params.refreshToken === true ? REFRESHES_THEN_READS_AUTH : READS_AUTH,
);

export const Methods = {
  // MCP, initialize era (2024-11-05 .. 2025-11-25): the handshake, ping, the log level (2026-07-28
  // sets it per request in `_meta`), resource subscriptions
  initialize: method(Mcp.InitializeParamsSchema, Mcp.InitializeResultSchema, { eras: 'legacy', access: NONE }),
  ping: method(Mcp.AnyParamsSchema, Mcp.EmptyResultSchema, { eras: 'legacy', access: NONE }),
  'logging/setLevel': method(Mcp.SetLevelParamsSchema, Mcp.EmptyResultSchema, { eras: 'legacy', access: NONE }),
  'resources/subscribe': method(Mcp.ResourceUriParamsSchema, Mcp.EmptyResultSchema, { eras: 'legacy', access: NONE }),
  'resources/unsubscribe': method(Mcp.ResourceUriParamsSchema, Mcp.EmptyResultSchema, { eras: 'legacy', access: NONE }),
  // MCP, stateless era (2026-07-28): discovery and the notification stream
  'server/discover': method(Mcp.DiscoverParamsSchema, Mcp.DiscoverResultSchema, { eras: 'modern', access: NONE, cache: BUILD_FACTS }),
  // A stream that lives as long as the client wants: it orders nothing.
  'subscriptions/listen': method(Mcp.SubscriptionsListenParamsSchema, Mcp.SubscriptionsListenResultSchema, { eras: 'modern', access: NONE }),
  // MCP, both eras (modern results also carry resultType, ttlMs and cacheScope)
  'tools/list': method(Mcp.ListParamsSchema, Mcp.ToolsListResultSchema, { eras: 'both', access: NONE, cache: BUILD_FACTS }),
  'tools/call': method(Mcp.ToolCallParamsSchema, z.union([Mcp.ToolResultSchema, Mcp.InputRequiredResultSchema]), { eras: 'both', access: BY_TOOL }),
  'resources/list': method(Mcp.ListParamsSchema, Mcp.ResourcesListResultSchema, { eras: 'both', access: NONE, cache: BUILD_FACTS }),
  // The status resource is the signed-in person's: the conservative default (private, stale at once; subscribe instead).
  'resources/read': method(Mcp.ReadResourceParamsSchema, Mcp.ReadResourceResultSchema, { eras: 'both', access: READS_AUTH, cache: true }),
  'resources/templates/list': method(Mcp.ListParamsSchema, Mcp.ResourceTemplatesListResultSchema, { eras: 'both', access: NONE, cache: BUILD_FACTS }),
  'prompts/list': method(Mcp.ListParamsSchema, Mcp.PromptsListResultSchema, { eras: 'both', access: NONE, cache: BUILD_FACTS }),
  // The auth surface of codex 0.25 (`codex mcp`)
  getAuthStatus: method(Auth.GetAuthStatusParamsSchema, Auth.GetAuthStatusResultSchema, { eras: 'both', access: statusRead }),
  loginChatGpt: method(Auth.LoginChatGptParamsSchema, Auth.LoginChatGptResultSchema, { eras: 'both', access: CHANGES_LOGIN }),
  cancelLoginChatGpt: method(Auth.CancelLoginChatGptParamsSchema, Mcp.EmptyResultSchema, { eras: 'both', access: CHANGES_LOGIN }),
  loginApiKey: method(Auth.LoginApiKeyParamsSchema, Mcp.EmptyResultSchema, { eras: 'both', access: CHANGES_AUTH }),
  logoutChatGpt: method(Auth.LogoutParamsSchema, Auth.LogoutResultSchema, { eras: 'both', access: CHANGES_AUTH }),
  // The v2 account API of codex app-server 0.171: calling any of it subscribes to its notifications
  'account/read': method(Account.AccountReadParamsSchema, Account.AccountReadResultSchema, { eras: 'both', access: statusRead, opensAccountEvents: true }),
  'account/login/start': method(Account.AccountLoginStartParamsSchema, Account.AccountLoginStartResultSchema, {
    eras: 'both',
    access: byParams('type apiKey: writes auth, login; otherwise writes login', (params: { type: string }) => (params.type === 'apiKey' ? CHANGES_AUTH : CHANGES_LOGIN)),
    opensAccountEvents: true,
  }),
  'account/login/cancel': method(Account.AccountLoginCancelParamsSchema, Account.AccountLoginCancelResultSchema, { eras: 'both', access: CHANGES_LOGIN, opensAccountEvents: true }),
  'account/logout': method(Account.AccountLogoutParamsSchema, Account.AccountLogoutResultSchema, { eras: 'both', access: CHANGES_AUTH, opensAccountEvents: true }),
  // Several accounts (0.171's experimental account sessions)
  'accountSession/list': method(Account.AccountSessionsListParamsSchema, Account.AccountSessionsResponseSchema, { eras: 'both', access: READS_AUTH, opensAccountEvents: true }),
  // A switch changes the account in force (and may start a sign-in, which ends a pending one).
  'accountSession/switch': method(Account.AccountSessionsSwitchParamsSchema, Account.AccountSessionsSwitchResultSchema, { eras: 'both', access: CHANGES_AUTH, opensAccountEvents: true }),
} as const satisfies Record<string, MethodEntry>;

export type ServerMethods = typeof Methods;
export type MethodName = keyof ServerMethods;

const entry = <P extends z.ZodMiniType, R extends z.ZodMiniType>(params: P, result: R) => ({ params, result });

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
