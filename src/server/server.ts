/**
 * Composition root of `serve`: wires stdin/stdout to the dispatcher and the actors behind it,
 * and shuts everything down on stdin EOF or a signal. It is not on any request's path.
 *
 * One request's path (docs/architecture.md traces it file by file): StdioTransport.receive →
 * Dispatcher.handleLine (envelope, params parsed with the wire table's schema) → the method
 * pipeline (method-pipeline.ts: era, request order, v2 subscription) → the handler, here the
 * status action (actions/status.ts; others in methods/, tools/, mcp/) reading the auth state →
 * back through the pipeline (the modern envelope for a 2026-07-28 request) → Dispatcher.respond →
 * StdioTransport.send.
 */
import type { LoadedConfig } from '../config/load.js';
import { createLogger } from '../log.js';
import { Methods, ServerRequests } from '../protocol/methods.js';
import { Dispatcher } from '../rpc/dispatcher.js';
import { OutgoingRequests } from '../rpc/outgoing.js';
import { StdioTransport } from '../transport/stdio.js';
import { accountMethods } from './methods/account.js';
import { accountSessionMethods } from './methods/account-session.js';
import { authMethods } from './methods/auth.js';
import { loginMethods } from './methods/login.js';
import { InteractiveLogin } from './tools/login.js';
import { loggingMethods } from './mcp/client-logs.js';
import { mcpMethods } from './methods/mcp.js';
import { composeHandlers } from './method-pipeline.js';
import { Connection } from './connection.js';
import { createRuntime } from './runtime.js';
import { StatusSubscriptions } from './mcp/status-resource.js';
import { toolCallAccess, toolList, toolMethods, type LegacyElicit } from './tools/index.js';

/** How long in-flight requests may still finish after stdin closes. */
const SHUTDOWN_GRACE_MS = 1_500;

export interface ServeOptions {
  readonly loaded: LoadedConfig;
}

export function serve({ loaded }: ServeOptions): void {
  const log = createLogger();
  const transport = new StdioTransport(process.stdin, process.stdout);
  const dispatcher = new Dispatcher(Methods, transport, log);
  // Notifications and server requests go out the same way as responses, with no frame of this file between.
  const send = transport.send.bind(transport);
  // What the client has opened (its handshake, the notifications it hears, its subscriptions).
  const connection = new Connection();
  const runtime = createRuntime(loaded, log, send, connection);
  const { context } = runtime;
  const outgoing = new OutgoingRequests(ServerRequests, send);
  const subscriptions = new StatusSubscriptions(context, connection);
  const legacyElicit = (): LegacyElicit =>
    connection.takesUrlElicitation ? (params, signal) => outgoing.request('elicitation/create', { mode: 'url', ...params }, signal) : undefined;
  // One handler for every method of the wire table (the type requires each), each behind the
  // policies of its entry (method-pipeline.ts): its era, its place in the order of this client's
  // requests, the v2 subscription, the modern envelope.
  const handlers = {
    ...mcpMethods(connection, toolList),
    ...loggingMethods((message) => context.notifier.logMessage(message)),
    ...subscriptions.handlers(),
    ...authMethods(context),
    ...loginMethods(context),
    ...accountMethods(context),
    ...accountSessionMethods(context),
    ...toolMethods(context, new InteractiveLogin(context), legacyElicit),
  };
  const { notifier } = context;
  dispatcher
    .registerAll(
      composeHandlers(handlers, {
        openCodexEvents: () => connection.openCodexEvents(),
        openAccountEvents: () => connection.openAccountEvents(),
        toolAccess: toolCallAccess,
        sendLog: (message) => notifier.logMessage(message),
      }),
    )
    .onNotification('notifications/initialized', () => undefined)
    .onResponse((message) => outgoing.settle(message));
  transport.start(dispatcher, () => void shutdown('stdin closed'));

  // Watch from the start, not once the first read is done: a change landing between that read
  // and a later watch would go unnoticed (a change during the first read makes it read again).
  context.auth.watch();
  runtime.inactiveSessions.start();
  context.auth.ready.catch((error) => stopping || log.error({ err: String(error) }, 'could not read the stored credentials'));

  let stopping = false;
  async function shutdown(reason: string): Promise<void> {
    if (stopping) return;
    stopping = true;
    log.info({ reason }, 'shutting down');
    // Open subscriptions/listen streams end with their graceful result; pending elicitations fail.
    subscriptions.closeAll();
    outgoing.rejectAll(new Error('the server is shutting down'));
    const grace = new Promise((resolve) => setTimeout(resolve, SHUTDOWN_GRACE_MS).unref());
    await Promise.race([dispatcher.idle(), grace]);
    await runtime.close(SHUTDOWN_GRACE_MS);
    // A client that closed stdin but stopped reading stdout would keep 'drain' from ever coming.
    await Promise.race([transport.drained(), new Promise((resolve) => setTimeout(resolve, SHUTDOWN_GRACE_MS).unref())]);
    process.exit(0);
  }
  // SIGHUP too: a closed terminal or a client that hangs up must not cut a refresh or a login
  // short (Node's default for it is to exit at once).
  for (const signal of ['SIGTERM', 'SIGINT', 'SIGHUP'] as const) process.once(signal, () => void shutdown(signal));
}
