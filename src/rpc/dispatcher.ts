/**
 * Turns one input line into at most one output line. Checks the JSON-RPC envelope, routes
 * requests to their method, validates params with the method's zod schema, and maps failures
 * to JSON-RPC errors. Handlers may be sync or async; an async one never delays another request.
 */
import type { z } from 'zod';
import {
  encodeError,
  encodeResult,
  ErrorCode,
  RpcError,
  type RequestId,
} from '../protocol/jsonrpc.js';
import type { Logger } from '../log.js';

export interface RequestContext {
  readonly id: RequestId;
  /** Aborted when the client sends `notifications/cancelled` for this request. */
  readonly signal: AbortSignal;
  /** Runs `fn` right after this request's response is queued (e.g. to send a notification that must follow it). */
  afterResponse(fn: () => void): void;
}

export interface MethodSpec {
  readonly params: z.ZodType;
  handle(params: never, context: RequestContext): unknown;
}

/** Declares a method with its params schema; the handler gets the parsed, typed params. */
export function method<S extends z.ZodType>(
  params: S,
  handle: (params: z.infer<S>, context: RequestContext) => unknown,
): MethodSpec {
  return { params, handle: handle as MethodSpec['handle'] };
}

export type NotificationHandler = (params: unknown) => void;

export class Dispatcher {
  private readonly methods = new Map<string, MethodSpec>();
  private readonly notifications = new Map<string, NotificationHandler>();
  private readonly inFlight = new Map<RequestId, { abort(reason: Error): void }>();
  private pendingCount = 0;
  private idleWaiters: (() => void)[] = [];

  constructor(
    private readonly send: (line: string) => void,
    private readonly log: Logger,
  ) {
    this.notifications.set('notifications/cancelled', (params) => this.cancel(params));
  }

  register(name: string, spec: MethodSpec): this {
    this.methods.set(name, spec);
    return this;
  }

  registerAll(specs: Record<string, MethodSpec>): this {
    for (const [name, spec] of Object.entries(specs)) this.register(name, spec);
    return this;
  }

  onNotification(name: string, handler: NotificationHandler): this {
    this.notifications.set(name, handler);
    return this;
  }

  /** Resolves when no request is being handled. */
  async idle(): Promise<void> {
    if (this.pendingCount === 0) return;
    await new Promise<void>((resolve) => this.idleWaiters.push(resolve));
  }

  handleOversizedLine(): void {
    this.send(encodeError(null, { code: ErrorCode.InvalidRequest, message: 'Invalid request: line too long' }));
  }

  handleLine(line: string): void {
    let message: unknown;
    try {
      message = JSON.parse(line);
    } catch {
      return this.send(encodeError(null, { code: ErrorCode.ParseError, message: 'Parse error' }));
    }
    if (message === null || typeof message !== 'object' || Array.isArray(message)) {
      const what = Array.isArray(message) ? 'batches are not supported' : 'expected a JSON object';
      return this.send(encodeError(null, { code: ErrorCode.InvalidRequest, message: `Invalid request: ${what}` }));
    }
    const { id, method: name, jsonrpc, params } = message as Record<string, unknown>;
    const hasId = id !== undefined;
    const validId = typeof id === 'string' || Number.isSafeInteger(id);
    if (typeof name !== 'string') {
      // A response or error from the client: we send no requests, so there is nothing to match.
      if (validId && ('result' in message || 'error' in message)) return;
      return this.invalid(validId ? (id as RequestId) : null, 'missing method');
    }
    if (hasId && !validId) return this.invalid(null, 'id must be a string or an integer');
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
    const spec = this.methods.get(name);
    if (!spec) {
      return this.send(encodeError(id, { code: ErrorCode.MethodNotFound, message: `Method not found: ${name}` }));
    }
    const parsed = spec.params.safeParse(rawParams ?? {});
    if (!parsed.success) {
      const issue = parsed.error.issues[0]!;
      const field = issue.path.length > 0 ? issue.path.join('.') : 'params';
      return this.send(
        encodeError(id, { code: ErrorCode.InvalidParams, message: `Invalid params: ${field}: ${issue.message}` }),
      );
    }
    // Most requests are answered synchronously from the cache; they never pay for an
    // AbortController or an after-response list unless they ask for one.
    let controller: AbortController | undefined;
    let after: (() => void)[] | undefined;
    const context: RequestContext = {
      id,
      get signal() {
        return (controller ??= new AbortController()).signal;
      },
      afterResponse: (fn) => (after ??= []).push(fn),
    };
    let outcome: unknown;
    try {
      outcome = spec.handle(parsed.data as never, context);
    } catch (error) {
      return this.respondError(id, name, error);
    }
    if (!(outcome instanceof Promise)) return this.respond(id, outcome, after);

    const cancellable = { abort: (reason: Error) => controller?.abort(reason) };
    this.inFlight.set(id, cancellable);
    this.pendingCount++;
    outcome
      .then(
        (result) => this.respond(id, result, after),
        (error) => this.respondError(id, name, error),
      )
      .finally(() => {
        if (this.inFlight.get(id) === cancellable) this.inFlight.delete(id);
        if (--this.pendingCount === 0) for (const resolve of this.idleWaiters.splice(0)) resolve();
      });
  }

  private respond(id: RequestId, result: unknown, after: (() => void)[] | undefined): void {
    let line: string;
    try {
      line = encodeResult(id, result ?? {});
    } catch (error) {
      // A result JSON cannot hold (a BigInt, a cycle) must not take the process down; codex
      // answers the same way ("failed to serialize response").
      this.log.error({ err: errorMessage(error) }, 'response could not be serialised');
      return this.send(encodeError(id, { code: ErrorCode.InternalError, message: `Internal error: failed to serialize response` }));
    }
    this.send(line);
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
      return this.send(encodeError(id, { code: error.code, message: error.message, ...body }));
    }
    this.log.error({ method: name, err: errorMessage(error) }, 'request handler failed');
    this.send(encodeError(id, { code: ErrorCode.InternalError, message: `Internal error: ${errorMessage(error)}` }));
  }

  private invalid(id: RequestId | null, why: string): void {
    this.send(encodeError(id, { code: ErrorCode.InvalidRequest, message: `Invalid request: ${why}` }));
  }

  private cancel(params: unknown): void {
    const requestId = (params as { requestId?: unknown } | null)?.requestId;
    if (typeof requestId === 'string' || typeof requestId === 'number') {
      this.inFlight.get(requestId)?.abort(new Error('cancelled by the client'));
    }
  }
}

export const errorMessage = (error: unknown) => (error instanceof Error ? error.message : String(error));
