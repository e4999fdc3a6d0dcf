/**
 * What happens around every handler, composed once per method from its entry in the wire table
 * (src/protocol/methods.ts), in this order:
 *
 * 1. **Era.** The request's era is decided from its `_meta` and put on the request
 *    (`request.modern`; tools and the status resource read it there). A method outside that era
 *    is refused; the first request without modern `_meta` opens the codex notifications.
 * 2. **Order.** The request waits for the earlier requests of this client that it conflicts with
 *    (RequestOrder, below), so answers fit the order of the requests.
 * 3. **Subscription.** A v2 account method subscribes the client to the v2 notifications.
 * 4. **Envelope.** A modern request's result gets `resultType`, our serverInfo and its method's
 *    caching hints. A modern request whose `_meta` asks for a log level gets the server's log lines
 *    logged while it runs (mcp/client-logs.ts), before its answer, and none after.
 *
 * The era check and the order gate are in this one file on purpose: every request passes through
 * them, and a request crosses one file for all of its policies, not one per wrapper.
 */
import { withRequestLogSink } from '../log.js';
import { ErrorCode, RpcError } from '../protocol/jsonrpc.js';
import { ClientCapabilitiesSchema, LoggingLevelSchema, MetaKey, type ClientCapabilities, type LoggingLevel, type ModernRequest, type ToolCallParams } from '../protocol/mcp-wire.js';
import { BY_TOOL, Methods, type Access, type CacheHint, type MethodName, type ServerMethodEntry } from '../protocol/methods.js';
import { NO_RESPONSE, type RequestContext } from '../rpc/dispatcher.js';
import { clientLogSink, type LogMessage } from './mcp/client-logs.js';
import type { ServerHandlers } from './context.js';
import { MODERN_PROTOCOL_VERSIONS, serverInfo } from './mcp/era.js';

/** What the pipeline tells the rest of the connection, and asks of it. */
export interface PipelineHooks {
  /** The first request without modern `_meta`: a legacy MCP client or a codex client is on the line. */
  openCodexEvents(): void;
  /** The first call of a v2 account method. */
  openAccountEvents(): void;
  /** What a `tools/call` touches: its tool's access (src/server/tools/index.ts). */
  toolAccess(params: ToolCallParams): Access | undefined;
  /** Sends one log line to the client (a modern request that asked for them, while it runs). */
  sendLog(message: LogMessage): void;
}

type AnyHandler = (params: unknown, request: RequestContext) => unknown;

/** Every handler of the table behind its policies; the result is what the dispatcher registers. */
export function composeHandlers(handlers: ServerHandlers<MethodName>, hooks: PipelineHooks): ServerHandlers<MethodName> {
  const order = new RequestOrder();
  let codexEventsOpen = false;
  let accountEventsOpen = false;
  const composed: Record<string, AnyHandler> = {};
  for (const name of Object.keys(Methods) as MethodName[]) {
    const entry: ServerMethodEntry = Methods[name];
    const handle = handlers[name] as AnyHandler;
    const rule = entry.access === BY_TOOL ? (hooks.toolAccess as (params: unknown) => Access | undefined) : entry.access;
    const accessOf = typeof rule === 'function' ? rule : () => rule;
    const run: AnyHandler = entry.opensAccountEvents
      ? (params, request) => {
          if (!accountEventsOpen) (accountEventsOpen = true), hooks.openAccountEvents();
          return handle(params, request);
        }
      : handle;
    const hints = entry.cache;
    const complete = (result: unknown) => modernEnvelope(result, hints);
    composed[name] = (params, request) => {
      const modern = modernRequest(request.meta);
      (request as { modern: ModernRequest | undefined }).modern = modern;
      if (!modern) {
        if (entry.eras === 'modern') throw invalidMeta(`${MetaKey.protocolVersion} is required (${name} is a 2026-07-28 method)`);
        if (!codexEventsOpen) (codexEventsOpen = true), hooks.openCodexEvents();
        return order.run(accessOf(params), () => run(params, request));
      }
      if (entry.eras === 'legacy') throw new RpcError(ErrorCode.MethodNotFound, `Method not found: ${name} is not part of ${modern.protocolVersion}`);
      if (modern.logLevel === undefined) {
        const outcome = order.run(accessOf(params), () => run(params, request));
        return outcome instanceof Promise ? outcome.then(complete) : complete(outcome);
      }
      // The lines this request logs go to it before its answer, and none after (the sink closes).
      const sink = clientLogSink(modern.logLevel, hooks.sendLog);
      let outcome: unknown;
      try {
        outcome = withRequestLogSink(sink, () => order.run(accessOf(params), () => run(params, request)));
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
  return composed as ServerHandlers<MethodName>;
}

// ---- 1. Era ----

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

// ---- 2. Order ----

interface InFlight {
  readonly access: Access;
  /** Settles (never rejects) when the request has finished. */
  readonly finished: Promise<void>;
}

const touches = (names: readonly string[] | undefined, other: readonly string[] | undefined) =>
  !!names && !!other && names.some((name) => other.includes(name));

/** Two requests conflict when one writes what the other reads or writes. */
export const conflicts = (a: Access, b: Access) =>
  touches(a.writes, b.writes) || touches(a.writes, b.reads) || touches(a.reads, b.writes);

const ignore = () => undefined;
const NOTHING: readonly Promise<void>[] = [];

/**
 * Keeps one client's answers linearizable in request order. JSON-RPC lets responses arrive in any
 * order, but what they say must fit the order the requests were sent in: a read sent before a
 * change is answered with the state before it, a read sent after a change with the state after it,
 * and two changes take effect in the order they were sent — even when all of them arrive in one
 * chunk and some are still waiting for the first read of the credentials.
 *
 * Each request names the state it reads and the state it writes (its method's `access`). A request
 * waits only for the earlier requests still in flight that it conflicts with (the same state, at
 * least one of the two writing); everything else — ping, a status answered from the cache — runs
 * at once, synchronously, exactly as without this gate.
 */
export class RequestOrder {
  private readonly inFlight: InFlight[] = [];

  /**
   * Runs `fn` once every earlier request it conflicts with has finished. With nothing to wait for
   * it runs at once and its own result (a value or a promise) is returned unchanged.
   */
  run<R>(access: Access | undefined, fn: () => R | Promise<R>): R | Promise<R> {
    if (!access) return fn();
    // Nearly always nothing is in flight: then no list is made (this is every request's path).
    const earlier = this.inFlight.length === 0 ? NOTHING : this.inFlight.filter((request) => conflicts(request.access, access)).map((request) => request.finished);
    const outcome = earlier.length === 0 ? fn() : Promise.all(earlier).then(fn);
    // A request answered synchronously is over already: nothing later can come before it.
    if (!(outcome instanceof Promise) || access.holdsLater === false) return outcome;
    const request: InFlight = { access, finished: outcome.then(ignore, ignore) };
    this.inFlight.push(request);
    void request.finished.then(() => this.inFlight.splice(this.inFlight.indexOf(request), 1));
    return outcome;
  }

  /** How many requests are being waited on or run (for tests). */
  get pending(): number {
    return this.inFlight.length;
  }
}

// ---- 4. Envelope ----

/** The `_meta` of nearly every modern result, built once. */
const SERVER_META: Readonly<Record<string, unknown>> = Object.freeze({ [MetaKey.serverInfo]: serverInfo });

/** `resultType` (kept when the handler set one: input_required), serverInfo, and the caching hints of a final result. */
function modernEnvelope(result: unknown, hints: CacheHint | undefined): unknown {
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
