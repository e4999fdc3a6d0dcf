/** What every method handler can reach: the validated config and the long-lived actors. */
import type { AuthState } from '../auth/auth-state.js';
import type { InactiveSessionRefresher } from '../auth/inactive-sessions.js';
import type { CredentialStore } from '../auth/store/store.js';
import type { RefreshCoordinator } from '../auth/refresh-coordinator.js';
import type { TokenService } from '../auth/token-service-client.js';
import type { CodexHomeSource } from '../config/codex-home-env.js';
import type { Config } from '../config/schema.js';
import type { LoginRestrictions } from '../protocol/login-restrictions.js';
import type { LoginEngine } from '../login/login-engine.js';
import type { Logger } from '../log.js';
import type { MethodName, ServerMethods } from '../protocol/methods.js';
import type { StoreOptions } from '../protocol/storage.js';
import type { HandlersFor } from '../rpc/dispatcher.js';
import type { Notifier } from './notifier.js';

export interface ServerContext {
  readonly config: Config;
  /** Who may be signed in (every config layer and requirements.toml): see src/protocol/login-restrictions.ts. */
  readonly restrictions: LoginRestrictions;
  readonly codexHome: string;
  /** How codexHome was chosen (CODEX_HOME in the environment, or the default), for signed-out answers. */
  readonly codexHomeSource: CodexHomeSource;
  readonly auth: AuthState;
  readonly store: CredentialStore;
  /** How every thread opens the same store (passed along in worker tasks). */
  readonly storeOptions: StoreOptions;
  readonly tokens: TokenService;
  readonly refresher: RefreshCoordinator;
  /** The inactive accounts' background refresh, and their rotated tokens held unsaved. */
  readonly inactiveSessions: InactiveSessionRefresher;
  readonly notifier: Notifier;
  readonly logins: LoginEngine;
  readonly log: Logger;
}

/** The handlers of a group of methods of the wire table (src/protocol/methods.ts). */
export type ServerHandlers<K extends MethodName> = HandlersFor<ServerMethods, K>;
