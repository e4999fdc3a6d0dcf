/**
 * The sign-in state as an MCP resource, `codex-auth://status` (JSON, never a token or key), and
 * who hears of its changes: each open `subscriptions/listen` stream that asked for it (2026-07-28)
 * and an initialize-era client that sent `resources/subscribe` for it.
 */
import { ErrorCode, RpcError, type RequestId } from '../../protocol/jsonrpc.js';
import type { SubscriptionFilter } from '../../protocol/mcp-wire.js';
import type { AuthSnapshot } from '../../protocol/snapshot.js';
import { NO_RESPONSE, type RequestContext } from '../../rpc/dispatcher.js';
import { v2Account } from '../account-shapes.js';
import { authStatusResult } from '../actions/status.js';
import type { Connection } from '../connection.js';
import type { ServerContext, ServerHandlers } from '../context.js';
import { MetaKey } from '../../protocol/mcp-wire.js';
import { codexHomeReport, signedOutAdvice } from '../where-we-looked.js';

export const STATUS_URI = 'codex-auth://status';
/** Open subscriptions/listen streams one connection may hold (each is a pending request, never answered until cancelled). */
export const MAX_LISTEN_STREAMS = 64;

const STATUS_RESOURCE = {
  uri: STATUS_URI,
  name: 'status',
  title: 'Sign-in status',
  description: 'Whether you are signed in to OpenAI / ChatGPT, how, and any problem with the stored credentials (no token or key).',
  mimeType: 'application/json',
};

/** The resource's content: what `auth_status` shows, as JSON. */
export function statusDocument(snapshot: AuthSnapshot, context: ServerContext): Record<string, unknown> {
  const { authToken: _never, ...status } = authStatusResult(snapshot, context, false);
  const account = v2Account(snapshot);
  const codexHome = codexHomeReport(context.codexHome, context.codexHomeSource);
  // Signed out: where we looked and what to do (see where-we-looked.ts).
  const advice = account === null && !status.authError ? { advice: signedOutAdvice(codexHome, 'client') } : {};
  return { authMethod: snapshot.authMethod ?? null, ...status, account, codexHome, ...advice };
}

interface Stream {
  readonly uris: ReadonlySet<string>;
  end(): void;
}

export class StatusSubscriptions {
  private readonly streams = new Map<RequestId, Stream>();
  private lastSent: string | undefined;

  constructor(
    private readonly context: ServerContext,
    /** Holds an initialize-era client's `resources/subscribe` (the notifier asks it). */
    private readonly connection: Connection,
  ) {
    context.auth.onSnapshot((snapshot) => this.changed(snapshot));
  }

  /** Ends every open stream with its graceful result (shutdown). */
  closeAll(): void {
    for (const stream of [...this.streams.values()]) stream.end();
  }

  handlers(): ServerHandlers<'resources/list' | 'resources/read' | 'resources/subscribe' | 'resources/unsubscribe' | 'subscriptions/listen'> {
    const { context } = this;
    return {
      'resources/list': () => ({ resources: [STATUS_RESOURCE] }),
      'resources/read': async ({ uri }, request) => {
        if (uri !== STATUS_URI) throw notFound(uri, request);
        const snapshot = context.auth.current ?? (await context.auth.ready);
        return { contents: [{ uri, mimeType: STATUS_RESOURCE.mimeType, text: JSON.stringify(statusDocument(snapshot, context)) }] };
      },
      'resources/subscribe': ({ uri }, request) => {
        if (uri !== STATUS_URI) throw notFound(uri, request);
        this.connection.subscribe(uri);
        this.remember();
        return {};
      },
      'resources/unsubscribe': ({ uri }) => {
        this.connection.unsubscribe(uri);
        return {};
      },
      'subscriptions/listen': ({ notifications }, request) => this.listen(notifications, request),
    };
  }

  /**
   * Opens a stream: acknowledges the part of the filter we honour (only our resource; our tool and
   * resource lists never change), then stays open until the client cancels it (no response, as
   * cancellation asks) or the server shuts down (the graceful result).
   */
  private listen(filter: SubscriptionFilter, request: RequestContext): Promise<{ _meta: Record<string, unknown> }> {
    const id = request.id;
    if (this.streams.has(id)) throw new RpcError(ErrorCode.InvalidRequest, 'Invalid request: a subscription with this id is already open');
    if (this.streams.size >= MAX_LISTEN_STREAMS) {
      throw new RpcError(ErrorCode.InvalidRequest, `Invalid request: ${MAX_LISTEN_STREAMS} subscriptions are already open on this connection; cancel one first`);
    }
    const uris = (filter.resourceSubscriptions ?? []).filter((uri) => uri === STATUS_URI);
    const honoured: SubscriptionFilter = filter.resourceSubscriptions ? { resourceSubscriptions: [...new Set(uris)] } : {};
    this.context.notifier.subscriptionAcknowledged(id, honoured);
    this.remember();
    return new Promise((resolve) => {
      const close = (result: { _meta: Record<string, unknown> }) => {
        this.streams.delete(id);
        resolve(result);
      };
      request.signal.addEventListener('abort', () => close(NO_RESPONSE), { once: true });
      this.streams.set(id, { uris: new Set(uris), end: () => close({ _meta: { [MetaKey.subscriptionId]: id } }) });
    });
  }

  /** The state a new listener starts from (any change before it was sent to the others), so a snapshot that changes nothing it can see sends nothing. */
  private remember(): void {
    const snapshot = this.context.auth.current;
    this.lastSent = snapshot && JSON.stringify(statusDocument(snapshot, this.context));
  }

  private changed(snapshot: AuthSnapshot): void {
    if (this.streams.size === 0 && !this.connection.subscribedTo(STATUS_URI)) return;
    const document = JSON.stringify(statusDocument(snapshot, this.context));
    if (document === this.lastSent) return;
    this.lastSent = document;
    const { notifier } = this.context;
    for (const [id, stream] of this.streams) if (stream.uris.has(STATUS_URI)) notifier.resourceUpdatedOnStream(STATUS_URI, id);
    notifier.resourceUpdated(STATUS_URI);
  }
}

/** An unknown resource: -32602 in the modern era, -32002 before it. */
function notFound(uri: string, request: RequestContext): RpcError {
  const code = request.modern ? ErrorCode.InvalidParams : ErrorCode.ResourceNotFound;
  return new RpcError(code, `Resource not found: ${uri}`, { uri });
}
