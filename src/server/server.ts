/**
 * Composition root of `serve`: wires stdin/stdout to the dispatcher and the actors behind it,
 * and shuts everything down on stdin EOF or a signal.
 *
 * One request's path: StdioTransport.receive → Dispatcher.handleLine → a method from
 * auth-methods.ts (or mcp-methods.ts) → a result → Dispatcher.respond → StdioTransport.send.
 */
import { AuthState } from '../auth/auth-state.js';
import { openCredentialStore } from '../auth/credential-store.js';
import { RefreshCoordinator } from '../auth/refresh-coordinator.js';
import { TokenService } from '../auth/token-service.js';
import type { ValidateTask } from '../auth/token-service-tasks.js';
import type { LoadedConfig } from '../config/load.js';
import { createLogger } from '../log.js';
import { Dispatcher } from '../rpc/dispatcher.js';
import { StdioTransport } from '../transport/stdio.js';
import { LoginEngine } from '../login/login-engine.js';
import { authMethods } from './auth-methods.js';
import { loginMethods } from './login-methods.js';
import type { ServerContext } from './context.js';
import { mcpMethods, type McpSession } from './mcp-methods.js';
import { Notifier } from './notifier.js';

/** How long in-flight requests may still finish after stdin closes. */
const SHUTDOWN_GRACE_MS = 1_500;

export interface ServeOptions {
  readonly loaded: LoadedConfig;
  readonly input?: NodeJS.ReadableStream;
  readonly output?: NodeJS.WritableStream;
}

export function serve({ loaded }: ServeOptions): void {
  const { config, codexHome } = loaded;
  const log = createLogger();
  const storeOptions = { codexHome, mode: config.cli_auth_credentials_store } as const;
  const validateTask: ValidateTask = {
    store: storeOptions,
    resolve: {
      preferredAuthMethod: config.preferred_auth_method,
      ...(process.env['OPENAI_API_KEY'] && { envApiKey: process.env['OPENAI_API_KEY'] }),
    },
  };
  const tokens = new TokenService();
  const auth = new AuthState(tokens, validateTask, log);
  const refresher = new RefreshCoordinator(tokens, auth, { ...validateTask, issuer: config.auth_issuer }, log);

  let dispatcher: Dispatcher | undefined;
  const transport = new StdioTransport(process.stdin, process.stdout, {
    onLine: (line) => dispatcher!.handleLine(line),
    onOversizedLine: () => dispatcher!.handleOversizedLine(),
    onClose: () => void shutdown('stdin closed'),
  });
  const notifier = new Notifier((line) => transport.send(line));
  dispatcher = new Dispatcher((line) => transport.send(line), log);

  const logins = new LoginEngine({ config, store: storeOptions, auth, log });
  logins.onComplete((completion) => {
    const { loginId, success, error, errorCode } = completion;
    notifier.loginChatGptComplete({ loginId, success, ...(error && { error }), ...(errorCode && { errorCode }) });
    if (success) notifier.authStatusChange(completion.snapshot?.authMethod);
  });
  const context: ServerContext = {
    config,
    codexHome,
    auth,
    store: openCredentialStore(storeOptions),
    tokens,
    refresher,
    notifier,
    logins,
    log,
  };
  const session: McpSession = { initialized: false };
  dispatcher
    .registerAll(mcpMethods(session, () => []))
    .registerAll(authMethods(context))
    .registerAll(loginMethods(context))
    .onNotification('notifications/initialized', () => undefined);

  auth.onMethodChange((snapshot) => notifier.authStatusChange(snapshot.authMethod));
  auth.ready.then(
    () => auth.watch(),
    (error) => stopping || log.error({ err: String(error) }, 'could not read the stored credentials'),
  );

  let stopping = false;
  async function shutdown(reason: string): Promise<void> {
    if (stopping) return;
    stopping = true;
    log.info({ reason }, 'shutting down');
    const grace = new Promise((resolve) => setTimeout(resolve, SHUTDOWN_GRACE_MS).unref());
    await Promise.race([dispatcher!.idle(), grace]);
    auth.close();
    refresher.close();
    // Ending a pending login sends its completion; let that reach the client too.
    await Promise.race([logins.close(), grace]);
    await transport.drained();
    await Promise.race([tokens.close(), grace]);
    process.exit(0);
  }
  process.once('SIGTERM', () => void shutdown('SIGTERM'));
  process.once('SIGINT', () => void shutdown('SIGINT'));
}
