/**
 * The MCP messages this server answers, for both eras of the protocol: the initialize-era
 * revisions (2025-11-25 back to 2024-11-05, one handshake per process) and the stateless 2026-07-28
 * revision (every request names its version and client capabilities in `_meta`). Each schema is
 * the single definition of its type; results are written once and the modern-era envelope
 * (`resultType`, `_meta` serverInfo) is added around them (src/server/method-pipeline.ts).
 */
import * as z from './zod.js';

/** The `_meta` keys of the modern era (2026-07-28 basic/index, "Per-request protocol fields"). */
export const MetaKey = {
  protocolVersion: 'io.modelcontextprotocol/protocolVersion',
  clientCapabilities: 'io.modelcontextprotocol/clientCapabilities',
  clientInfo: 'io.modelcontextprotocol/clientInfo',
  serverInfo: 'io.modelcontextprotocol/serverInfo',
  subscriptionId: 'io.modelcontextprotocol/subscriptionId',
  logLevel: 'io.modelcontextprotocol/logLevel',
} as const;

/** What a client may declare; we only ever look at elicitation (URL mode). */
export const ClientCapabilitiesSchema = z.looseObject({
  elicitation: z.optional(z.looseObject({ form: z.optional(z.looseObject({})), url: z.optional(z.looseObject({})) })),
});
export type ClientCapabilities = z.infer<typeof ClientCapabilitiesSchema>;

/**
 * A 2026-07-28 request's era, from its `_meta`: the revision it names and the capabilities it
 * declares (checked once per request, src/server/method-pipeline.ts, and carried on it).
 */
export interface ModernRequest {
  readonly protocolVersion: string;
  readonly clientCapabilities: ClientCapabilities;
  /** `_meta` logLevel: the request wants the server's log lines at or above it while it runs. */
  readonly logLevel?: LoggingLevel;
}

export const InitializeParamsSchema = z.looseObject({
  protocolVersion: z.optional(z.string()),
  // A malformed capabilities object is treated as "declares nothing" rather than refusing the handshake.
  capabilities: z.catch(z.optional(ClientCapabilitiesSchema), undefined),
  clientInfo: z.optional(z.looseObject({ name: z.optional(z.string()), version: z.optional(z.string()) })),
});

const ImplementationSchema = z.object({ name: z.string(), title: z.optional(z.string()), version: z.string() });

export const ServerCapabilitiesSchema = z.object({
  tools: z.object({ listChanged: z.boolean() }),
  resources: z.object({ subscribe: z.boolean(), listChanged: z.boolean() }),
  logging: z.object({}),
});

export const InitializeResultSchema = z.object({
  protocolVersion: z.string(),
  capabilities: ServerCapabilitiesSchema,
  serverInfo: ImplementationSchema,
});
export type InitializeResult = z.infer<typeof InitializeResultSchema>;

/** Caching hints, required on the modern era's list and read results (SEP-2549). */
const Cacheable = { ttlMs: z.optional(z.int().check(z.minimum(0))), cacheScope: z.optional(z.enum(['public', 'private'])) };

export const DiscoverParamsSchema = z.looseObject({});
export const DiscoverResultSchema = z.object({
  supportedVersions: z.array(z.string()),
  capabilities: ServerCapabilitiesSchema,
  instructions: z.optional(z.string()),
  ...Cacheable,
});

export const ListParamsSchema = z.looseObject({ cursor: z.optional(z.string()) });

/** Hints about a tool's effects (2025-03-26 onward); clients must not trust them for security. */
export const ToolAnnotationsSchema = z.object({
  title: z.optional(z.string()),
  readOnlyHint: z.optional(z.boolean()),
  destructiveHint: z.optional(z.boolean()),
  idempotentHint: z.optional(z.boolean()),
  openWorldHint: z.optional(z.boolean()),
});

export const ToolSchema = z.object({
  name: z.string(),
  title: z.string(),
  description: z.string(),
  inputSchema: z.record(z.string(), z.unknown()),
  annotations: ToolAnnotationsSchema,
});
export const ToolsListResultSchema = z.object({ tools: z.array(ToolSchema), ...Cacheable });
export type ToolsListResult = z.infer<typeof ToolsListResultSchema>;

/** An answer the client gives to one of our input requests (an ElicitResult, for us). */
export const ElicitResultSchema = z.looseObject({ action: z.enum(['accept', 'decline', 'cancel']) });
export type ElicitResult = z.infer<typeof ElicitResultSchema>;

export const ToolCallParamsSchema = z.looseObject({
  name: z.string(),
  arguments: z.optional(z.record(z.string(), z.unknown())),
  // The retry of a multi round-trip request (2026-07-28, SEP-2322): checked by the tool that asked.
  inputResponses: z.optional(z.record(z.string(), z.unknown())),
  requestState: z.optional(z.string()),
});
export type ToolCallParams = z.infer<typeof ToolCallParamsSchema>;
export const ToolResultSchema = z.object({
  content: z.array(z.object({ type: z.literal('text'), text: z.string() })),
  structuredContent: z.optional(z.record(z.string(), z.unknown())),
  isError: z.optional(z.boolean()),
});
export type ToolResult = z.infer<typeof ToolResultSchema>;

/** A request for user input carried in a result instead of sent to the client (modern era). */
export const UrlElicitationSchema = z.object({
  method: z.literal('elicitation/create'),
  params: z.object({ mode: z.literal('url'), message: z.string(), url: z.string() }),
});
export const InputRequiredResultSchema = z.object({
  resultType: z.literal('input_required'),
  inputRequests: z.optional(z.record(z.string(), UrlElicitationSchema)),
  requestState: z.optional(z.string()),
});
export type InputRequiredResult = z.infer<typeof InputRequiredResultSchema>;

/** The same URL-mode elicitation sent as a request to an initialize-era client (2025-11-25). */
export const LegacyUrlElicitParamsSchema = z.object({ mode: z.literal('url'), message: z.string(), url: z.string(), elicitationId: z.string() });
export type LegacyUrlElicitParams = z.infer<typeof LegacyUrlElicitParamsSchema>;

export const ResourceSchema = z.object({ uri: z.string(), name: z.string(), title: z.string(), description: z.string(), mimeType: z.string() });
export const ResourcesListResultSchema = z.object({ resources: z.array(ResourceSchema), ...Cacheable });
export const ReadResourceParamsSchema = z.looseObject({ uri: z.string() });
export const ReadResourceResultSchema = z.object({
  contents: z.array(z.object({ uri: z.string(), mimeType: z.string(), text: z.string() })),
  ...Cacheable,
});
/** Legacy-era resource subscriptions (2024-11-05 .. 2025-11-25). */
export const ResourceUriParamsSchema = z.looseObject({ uri: z.string() });

/** This server offers no resource templates or prompts; it answers the lists (empty) rather than dropping them. */
export const ResourceTemplatesListResultSchema = z.object({ resourceTemplates: z.array(z.never()), ...Cacheable });
export const PromptsListResultSchema = z.object({ prompts: z.array(z.never()), ...Cacheable });

/** `subscriptions/listen` (modern era): which notifications the client opts in to on this stream. */
export const SubscriptionFilterSchema = z.looseObject({
  toolsListChanged: z.optional(z.boolean()),
  promptsListChanged: z.optional(z.boolean()),
  resourcesListChanged: z.optional(z.boolean()),
  resourceSubscriptions: z.optional(z.array(z.string())),
});
export type SubscriptionFilter = z.infer<typeof SubscriptionFilterSchema>;
export const SubscriptionsListenParamsSchema = z.looseObject({ notifications: SubscriptionFilterSchema });
/** Sent only when the server ends the stream itself (shutdown); carries the subscription id in `_meta`. */
export const SubscriptionsListenResultSchema = z.object({ _meta: z.record(z.string(), z.unknown()) });

const SubscriptionMeta = z.object({ [MetaKey.subscriptionId]: z.union([z.string(), z.int()]) });
export const SubscriptionsAcknowledgedParamsSchema = z.object({ _meta: SubscriptionMeta, notifications: SubscriptionFilterSchema });
export const ResourceUpdatedParamsSchema = z.object({ _meta: z.optional(SubscriptionMeta), uri: z.string() });
export const ElicitationCompleteParamsSchema = z.object({ elicitationId: z.string() });

/** MCP logging: RFC 5424's levels, lowest first (`logging/setLevel`, `_meta` logLevel, `notifications/message`). */
export const LOGGING_LEVELS = ['debug', 'info', 'notice', 'warning', 'error', 'critical', 'alert', 'emergency'] as const;
export const LoggingLevelSchema = z.enum(LOGGING_LEVELS);
export type LoggingLevel = z.infer<typeof LoggingLevelSchema>;
export const SetLevelParamsSchema = z.looseObject({ level: LoggingLevelSchema });
export const LoggingMessageParamsSchema = z.object({ level: LoggingLevelSchema, logger: z.optional(z.string()), data: z.unknown() });

/** `{}`: ping, and methods whose result carries nothing. */
export const EmptyResultSchema = z.object({});
export type EmptyResult = z.infer<typeof EmptyResultSchema>;

/** Params nobody reads (ping): anything is accepted. */
export const AnyParamsSchema = z.unknown();
