/**
 * Turns one input line into at most one output line. Checks the JSON-RPC envelope, routes
 * requests to their handler, validates params with the method table's zod schema, and maps
 * failures to JSON-RPC errors. Handlers may be sync or async; an async one never delays another request.
 *
 * It is the transport's line handler (handleLine, handleOversizedLine) and writes every response
 * straight to the transport's `send`: the one way out for responses, with no closure between.
 */
import type * as z from '../protocol/zod.js';
import { ErrorCode, RpcError, type ErrorObject, type RequestId } from '../protocol/jsonrpc.js';
import type { ModernRequest } from '../protocol/mcp-wire.js';
import type { Logger } from '../log.js';
import type { MethodEntry } from '../protocol/methods.js';

/** Where response lines go (the transport). */
export interface LineOutput {
  send(line: string): void;
}

/** The two kinds of response line; one JSON object per line. */
const encodeResult = (id: RequestId, result: unknown): string => `{"jsonrpc":"2.0","id":${JSON.stringify(id)},"result":${JSON.stringify(result)}}`;
const encodeError = (id: RequestId | null, error: ErrorObject): string => `{"jsonrpc":"2.0","id":${JSON.stringify(id)},"error":${JSON.stringify(error)}}`;

export interface RequestContext {
  readonly id: RequestId;
  /** The request's raw `params._meta` (MCP's per-request metadata), or undefined. */
  readonly meta: Record<string, unknown> | undefined;
  /**
   * The request's MCP era, decided once from `meta` by the method pipeline before the handler
   * runs (src/server/method-pipeline.ts): the 2026-07-28 fields, or undefined for an
   * initialize-era or codex request.
   */
  readonly modern: ModernRequest | undefined;
  /** Aborted when the client sends `notifications/cancelled` for this request. */
  readonly signal: AbortSignal;
  /** Runs `fn` right after this request's response is queued (e.g. to send a notification that must follow it). */
  afterResponse(fn: () => void): void;
}

/** A method table: each method's params and result schema (src/protocol/methods.ts is ours). */
export type MethodTable = Record<string, MethodEntry>;

/** The handler of method `M` of table `T`: parsed params in, a result of the table's type out. */
export type Handler<T extends MethodTable, M extends keyof T> = (
  params: z.infer<T[M]['params']>,
  request: RequestContext,
) => z.input<T[M]['result']> | Promise<z.input<T[M]['result']>>;

/** Handlers for the methods `K` of table `T`; a group of methods returns one of these. */
export type HandlersFor<T extends MethodTable, K extends keyof T> = { [M in K]: Handler<T, M> };

export type NotificationHandler = (params: unknown) => void;

/** What a handler resolves with to send no response at all (a stream the client cancelled). */
// Typed `never` so a handler may resolve with it whatever its result type.
export const NO_RESPONSE = Symbol('no response') as never;

/** A response or error from the client, to a request this server sent. */
export type ResponseHandler = (message: { id: RequestId; result?: unknown; error?: unknown }) => void;

/**
 * One request's context. Most requests are answered synchronously from the cache: they never pay
 * for an AbortController or an after-response list unless they ask for one, and a class (one
 * shape, methods on the prototype) costs less per request than an object literal with a getter.
 */
class Request implements RequestContext {
  readonly meta: Record<string, unknown> | undefined;
  /** Set by the method pipeline (a field from the start, so every request has one shape). */
  modern: ModernRequest | undefined = undefined;
  after: (() => void)[] | undefined;
  private controller: AbortController | undefined;
  /** A cancel that came before anyone asked for the signal: the signal, once made, is aborted already. */
  private cancelled: Error | undefined;

  constructor(
    readonly id: RequestId,
    meta: unknown,
  ) {
    this.meta = meta !== null && typeof meta === 'object' && !Array.isArray(meta) ? (meta as Record<string, unknown>) : undefined;
  }

  get signal(): AbortSignal {
    if (!this.controller) {
      this.controller = new AbortController();
      if (this.cancelled) this.controller.abort(this.cancelled);
    }
    return this.controller.signal;
  }

  /** A field, not a method: handlers pass it on detached (`request.afterResponse`). */
  readonly afterResponse = (fn: () => void): void => {
    (this.after ??= []).push(fn);
  };

  abort(reason: Error): void {
    this.cancelled ??= reason;
    this.controller?.abort(reason);
  }
}

export class Dispatcher<T extends MethodTable> {
  private readonly handlers = new Map<string, Handler<T, keyof T>>();
  private readonly notifications = new Map<string, NotificationHandler>();
  private readonly inFlight = new Map<RequestId, { abort(reason: Error): void }>();
  private pendingCount = 0;
  private responses: ResponseHandler | undefined;
  private idleWaiters: (() => void)[] = [];

  constructor(
    private readonly table: T,
    private readonly output: LineOutput,
    private readonly log: Logger,
  ) {
    this.notifications.set('notifications/cancelled', (params) => this.cancel(params));
  }

  /** A second handler for one method is a wiring mistake: refused, never a silent replacement. */
  register<M extends keyof T & string>(name: M, handler: Handler<T, M>): this {
    if (!Object.hasOwn(this.table, name)) throw new Error(`${name} is not in the method table`);
    if (this.handlers.has(name)) throw new Error(`a handler for ${name} is already registered`);
    this.handlers.set(name, handler as Handler<T, keyof T>);
    return this;
  }

  /** Every method of the table at once: the type requires a handler for each. */
  registerAll(handlers: HandlersFor<T, keyof T & string>): this {
    for (const name of Object.keys(handlers) as (keyof T & string)[]) this.register(name, handlers[name]);
    return this;
  }

  onNotification(name: string, handler: NotificationHandler): this {
    this.notifications.set(name, handler);
    return this;
  }

  /** Where responses from the client go (they answer requests we sent: src/rpc/outgoing.ts). */
  onResponse(handler: ResponseHandler): this {
    this.responses = handler;
    return this;
  }

  /** Resolves when no request is being handled. */
  async idle(): Promise<void> {
    if (this.pendingCount === 0) return;
    await new Promise<void>((resolve) => this.idleWaiters.push(resolve));
  }

  handleOversizedLine(): void {
    this.output.send(encodeError(null, { code: ErrorCode.InvalidRequest, message: 'Invalid request: line too long' }));
  }

  handleLine(line: string): void {
    let message: unknown;
    try {
      message = JSON.parse(line);
    } catch {
      return this.output.send(encodeError(null, { code: ErrorCode.ParseError, message: 'Parse error' }));
    }
    if (message === null || typeof message !== 'object' || Array.isArray(message)) {
      const what = Array.isArray(message) ? 'batches are not supported' : 'expected a JSON object';
      return this.output.send(encodeError(null, { code: ErrorCode.InvalidRequest, message: `Invalid request: ${what}` }));
    }
    const { id, method: name, jsonrpc, params } = message as Record<string, unknown>;
    const hasId = id !== undefined;
    const validId = typeof id === 'string' || Number.isSafeInteger(id);
    if (typeof name !== 'string') {
      // A response or error from the client answers a request we sent (or nothing: then it is dropped).
      if (validId && ('result' in message || 'error' in message)) {
        return this.responses?.(message as { id: RequestId; result?: unknown; error?: unknown });
      }
      return this.invalid(validId ? (id as RequestId) : null, 'missing method');
    }
    if (hasId && !validId) return this.invalid(echoableId(id, line), 'id must be a string or an integer');
    if (jsonrpc !== undefined && jsonrpc !== '2.0') {
      return hasId ? this.invalid(id as RequestId, 'jsonrpc must be "2.0"') : undefined;
    }
    if (!hasId) return this.notify(name, params);
    this.request(id as RequestId, name, params);
  }

  private notify(name: string, params: unknown): void {
    const handler = this.notifications.get(name);
    if (!handler) return this.log.debug({ method: name }, 'ignored unknown notification');
    try {
      handler(params);
    } catch (error) {
      this.log.warn({ method: name, err: errorMessage(error) }, 'notification handler failed');
    }
  }

  private request(id: RequestId, name: string, rawParams: unknown): void {
    const handler = this.handlers.get(name);
    if (!handler) {
      return this.output.send(encodeError(id, { code: ErrorCode.MethodNotFound, message: `Method not found: ${name}` }));
    }
    const parsed = this.table[name]!.params.safeParse(rawParams ?? {});
    if (!parsed.success) {
      const issue = parsed.error.issues[0]!;
      const field = issue.path.length > 0 ? issue.path.join('.') : 'params';
      return this.output.send(
        encodeError(id, { code: ErrorCode.InvalidParams, message: `Invalid params: ${field}: ${issue.message}` }),
      );
    }
    const context = new Request(id, (rawParams as { _meta?: unknown } | null | undefined)?._meta);
    let outcome: unknown;
    try {
      outcome = handler(parsed.data as z.infer<T[keyof T]["params"]>, context);
    } catch (error) {
      return this.respondError(id, name, error);
    }
    if (!(outcome instanceof Promise)) return this.respond(id, outcome, context.after);

    const cancellable = { abort: (reason: Error) => context.abort(reason) };
    this.inFlight.set(id, cancellable);
    this.pendingCount++;
    outcome
      .then(
        (result) => this.respond(id, result, context.after),
        (error) => this.respondError(id, name, error),
      )
      .finally(() => {
        if (this.inFlight.get(id) === cancellable) this.inFlight.delete(id);
        if (--this.pendingCount === 0) for (const resolve of this.idleWaiters.splice(0)) resolve();
      });
  }

  private respond(id: RequestId, result: unknown, after: (() => void)[] | undefined): void {
    if (result === NO_RESPONSE) return;
    let line: string;
    try {
      line = encodeResult(id, result ?? {});
    } catch (error) {
      // A result JSON cannot hold (a BigInt, a cycle) must not take the process down; codex
      // answers the same way ("failed to serialize response").
      this.log.error({ err: errorMessage(error) }, 'response could not be serialised');
      return this.output.send(encodeError(id, { code: ErrorCode.InternalError, message: `Internal error: failed to serialize response` }));
    }
    this.output.send(line);
    if (!after) return;
    for (const fn of after) {
      try {
        fn();
      } catch (error) {
        this.log.error({ err: errorMessage(error) }, 'after-response hook failed');
      }
    }
  }

  private respondError(id: RequestId, name: string, error: unknown): void {
    if (error instanceof RpcError) {
      const body = error.data === undefined ? {} : { data: error.data };
      return this.output.send(encodeError(id, { code: error.code, message: error.message, ...body }));
    }
    this.log.error({ method: name, err: errorMessage(error) }, 'request handler failed');
    this.output.send(encodeError(id, { code: ErrorCode.InternalError, message: `Internal error: ${errorMessage(error)}` }));
  }

  private invalid(id: RequestId | null, why: string): void {
    this.output.send(encodeError(id, { code: ErrorCode.InvalidRequest, message: `Invalid request: ${why}` }));
  }

  private cancel(params: unknown): void {
    const requestId = (params as { requestId?: unknown } | null)?.requestId;
    if (typeof requestId === 'string' || typeof requestId === 'number') {
      this.inFlight.get(requestId)?.abort(new Error('cancelled by the client'));
    }
  }
}

/**
 * The id of a request refused for its id, as the answer may carry it. MCP wants a string or an
 * integer; JSON-RPC 2.0 allows a number with a fraction (SHOULD NOT), so a client may well match
 * answers by such an id: it is echoed when the number we hold writes back as the very text sent
 * (1.5 does; 1e400, 2^53+1 or 1.50 do not, and a wrong id could match another request: null).
 * Anything else (an object, an array, a boolean) is null, as JSON-RPC says for an undetectable id.
 */
function echoableId(id: unknown, line: string): number | null {
  if (typeof id !== 'number' || !Number.isFinite(id)) return null;
  const written = JSON.stringify(id);
  return new RegExp(`"id"\\s*:\\s*${written.replace(/[.+-]/g, '\\$&')}(?![0-9.eE])`).test(line) ? id : null;
}

export const errorMessage = (error: unknown) => (error instanceof Error ? error.message : String(error));
