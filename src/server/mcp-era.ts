/**
 * Which MCP era a request belongs to, and the envelope each era puts around a result.
 *
 * - Modern (2026-07-28): the request names its protocol version and client capabilities in
 *   `params._meta`; it is checked on its own (no handshake) and its result carries `resultType`,
 *   our serverInfo in `_meta`, and the caching hints of its method.
 * - Initialize era (2024-11-05 .. 2025-11-25) and codex's own clients: no version in `_meta`; the
 *   result goes out exactly as the handler wrote it. The first such request shows a legacy or
 *   codex client is on the line, which opens the unsolicited codex notifications (see Notifier).
 *
 * Every handler of the wire table is wrapped here once (server.ts), so no method can forget it.
 */
import { ErrorCode, RpcError } from '../protocol/jsonrpc.js';
import { withRequestLogSink } from '../log.js';
import { ClientCapabilitiesSchema, LoggingLevelSchema, MetaKey, type ClientCapabilities, type LoggingLevel } from '../protocol/mcp-wire.js';
import type { MethodName } from '../protocol/methods.js';
import type { RequestContext } from '../rpc/dispatcher.js';
import { NO_RESPONSE } from '../rpc/dispatcher.js';
import type { ServerHandlers } from './context.js';
import { clientLogSink, type LogMessage } from './client-logs.js';
import { packageInfo } from './package-info.js';

/** Revisions served statelessly, newest first. */
export const MODERN_PROTOCOL_VERSIONS = ['2026-07-28'] as const;
/** Revisions negotiated by `initialize`, newest first (the first is the default). */
export const LEGACY_PROTOCOL_VERSIONS = ['2025-11-25', '2025-06-18', '2025-03-26', '2024-11-05'] as const;

export interface ModernRequest {
  readonly protocolVersion: string;
  readonly clientCapabilities: ClientCapabilities;
  /** `_meta` logLevel: the request wants the server's log lines at or above it while it runs. */
  readonly logLevel?: LoggingLevel;
}

const invalidMeta = (why: string) => new RpcError(ErrorCode.InvalidParams, `Invalid params: _meta.${why}`);

/**
 * The modern-era fields of a request, or undefined for a request that names no version (an
 * initialize-era or codex request). Throws the errors the 2026-07-28 revision defines: -32022
 * for a version we do not serve, -32602 for a missing or malformed required field.
 */
export function modernRequest(meta: Record<string, unknown> | undefined): ModernRequest | undefined {
  const protocolVersion = meta?.[MetaKey.protocolVersion];
  if (protocolVersion === undefined) return undefined;
  if (typeof protocolVersion !== 'string') throw invalidMeta(`${MetaKey.protocolVersion} must be a string`);
  if (!(MODERN_PROTOCOL_VERSIONS as readonly string[]).includes(protocolVersion)) {
    throw new RpcError(ErrorCode.UnsupportedProtocolVersion, 'Unsupported protocol version', {
      supported: [...MODERN_PROTOCOL_VERSIONS],
      requested: protocolVersion,
    });
  }
  const declared = meta![MetaKey.clientCapabilities];
  if (declared === undefined) throw invalidMeta(`${MetaKey.clientCapabilities} is required`);
  const logLevel = requestedLogLevel(meta![MetaKey.logLevel]);
  const modern = (clientCapabilities: ClientCapabilities): ModernRequest =>
    logLevel === undefined ? { protocolVersion, clientCapabilities } : { protocolVersion, clientCapabilities, logLevel };
  // On every modern request, so the common shape (plain objects) skips the schema; anything else is checked by it.
  if (isPlainObject(declared) && (declared['elicitation'] === undefined || isPlainObject(declared['elicitation']))) {
    return modern(declared as ClientCapabilities);
  }
  const capabilities = ClientCapabilitiesSchema.safeParse(declared);
  if (!capabilities.success) throw invalidMeta(`${MetaKey.clientCapabilities} must be an object`);
  return modern(capabilities.data);
}

function requestedLogLevel(value: unknown): LoggingLevel | undefined {
  if (value === undefined) return undefined;
  const level = LoggingLevelSchema.safeParse(value);
  if (!level.success) throw invalidMeta(`${MetaKey.logLevel} must be one of ${LoggingLevelSchema.options.join(', ')}`);
  return level.data;
}

const isPlainObject = (value: unknown): value is Record<string, unknown> => value !== null && typeof value === 'object' && !Array.isArray(value);

/** -32021: the request needs a client capability it did not declare. */
export const missingCapability = (requiredCapabilities: ClientCapabilities) =>
  new RpcError(ErrorCode.MissingRequiredClientCapability, 'Missing required client capability', { requiredCapabilities });

export const serverInfo = { name: packageInfo.name, title: 'Codex Auth', version: packageInfo.version };

/** Methods only the modern era has, and methods it removed. */
const MODERN_ONLY: ReadonlySet<string> = new Set<MethodName>(['server/discover', 'subscriptions/listen']);
const LEGACY_ONLY: ReadonlySet<string> = new Set<MethodName>(['initialize', 'ping', 'logging/setLevel', 'resources/subscribe', 'resources/unsubscribe']);

/**
 * Caching hints (SEP-2549) per method. Lists and discovery describe this build only: public, an
 * hour. The status resource is the signed-in person's: private, stale at once (subscribe instead).
 */
const CACHE_HINTS: Partial<Record<MethodName, { ttlMs: number; cacheScope: 'public' | 'private' }>> = {
  'server/discover': { ttlMs: 3_600_000, cacheScope: 'public' },
  'tools/list': { ttlMs: 3_600_000, cacheScope: 'public' },
  'resources/list': { ttlMs: 3_600_000, cacheScope: 'public' },
  'resources/templates/list': { ttlMs: 3_600_000, cacheScope: 'public' },
  'prompts/list': { ttlMs: 3_600_000, cacheScope: 'public' },
  'resources/read': { ttlMs: 0, cacheScope: 'private' },
};

/** What the era layer tells the rest of the connection. */
export interface EraEvents {
  /** A request without modern `_meta` came: a legacy MCP client or a codex client is on the line. */
  legacyClientSeen(): void;
  /** Sends one log line to the client (a modern request that asked for them, while it runs). */
  sendLog(message: LogMessage): void;
}

/** Wraps every handler with the era check and the modern envelope. */
export function withEras<K extends MethodName>(handlers: ServerHandlers<K>, events: EraEvents): ServerHandlers<K> {
  const wrapped = {} as Record<string, unknown>;
  for (const name of Object.keys(handlers) as K[]) {
    const handle = handlers[name] as (params: unknown, request: RequestContext) => unknown;
    const hints = CACHE_HINTS[name];
    const complete = (result: unknown) => modernEnvelope(result, hints);
    wrapped[name] = (params: unknown, request: RequestContext) => {
      const modern = modernRequest(request.meta);
      if (!modern) {
        if (MODERN_ONLY.has(name)) throw invalidMeta(`${MetaKey.protocolVersion} is required (${name} is a 2026-07-28 method)`);
        events.legacyClientSeen();
        return handle(params, request);
      }
      if (LEGACY_ONLY.has(name)) throw new RpcError(ErrorCode.MethodNotFound, `Method not found: ${name} is not part of ${modern.protocolVersion}`);
      if (modern.logLevel === undefined) {
        const outcome = handle(params, request);
        return outcome instanceof Promise ? outcome.then(complete) : complete(outcome);
      }
      // The lines this request logs go to it before its answer, and none after (the sink closes).
      const sink = clientLogSink(modern.logLevel, events.sendLog);
      let outcome: unknown;
      try {
        outcome = withRequestLogSink(sink, () => handle(params, request));
      } catch (error) {
        sink.close();
        throw error;
      }
      if (!(outcome instanceof Promise)) {
        sink.close();
        return complete(outcome);
      }
      return outcome.then(complete).finally(sink.close);
    };
  }
  return wrapped as ServerHandlers<K>;
}

/** The `_meta` of nearly every modern result, built once. */
const SERVER_META: Readonly<Record<string, unknown>> = Object.freeze({ [MetaKey.serverInfo]: serverInfo });

/** `resultType` (kept when the handler set one: input_required), serverInfo, and the caching hints of a final result. */
function modernEnvelope(result: unknown, hints: { ttlMs: number; cacheScope: 'public' | 'private' } | undefined): unknown {
  if (result === NO_RESPONSE || result === null || typeof result !== 'object' || Array.isArray(result)) return result;
  const body = result as Record<string, unknown>;
  // A copy, field by field (the hot path of every modern request; spreads of spreads cost more).
  const enveloped: Record<string, unknown> = Object.assign({}, body);
  const resultType = body['resultType'] ?? 'complete';
  // Interim input_required results are not cacheable and carry no hints.
  if (hints && resultType === 'complete') {
    enveloped['ttlMs'] = hints.ttlMs;
    enveloped['cacheScope'] = hints.cacheScope;
  }
  enveloped['resultType'] = resultType;
  const own = body['_meta'] as Record<string, unknown> | undefined;
  enveloped['_meta'] = own ? { ...own, ...SERVER_META } : SERVER_META;
  return enveloped;
}
