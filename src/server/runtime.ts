/**
 * The long-lived actors behind every front end (the stdio server and the CLI): the auth state
 * cache, the token service, the refresh coordinator and the login engine, wired together once.
 */
import { AuthState } from '../auth/auth-state.js';
import { InactiveSessionRefresher } from '../auth/inactive-sessions.js';
import { openCredentialStore, storeOptionsFor } from '../auth/store/store.js';
import { RefreshCoordinator } from '../auth/refresh-coordinator.js';
import { TokenService } from '../auth/token-service-client.js';
import type { ValidateTask } from '../protocol/token-service-tasks.js';
import type { LoadedConfig } from '../config/load.js';
import { codexHomeOrigin } from '../config/codex-home-env.js';
import type { Logger } from '../log.js';
import { LoginEngine } from '../login/login-engine.js';
import { Connection } from './connection.js';
import type { ServerContext } from './context.js';
import { Notifier } from './notifier.js';

export interface Runtime {
  readonly context: ServerContext;
  /** Refreshes inactive account sessions in the background (started by `serve`, not by one-shot CLI commands). */
  readonly inactiveSessions: InactiveSessionRefresher;
  /** Stops the login worker and the token service; bounded by `graceMs`. */
  close(graceMs: number): Promise<void>;
}

/**
 * `send` and `connection`: where notifications go and what the client there has opened; the CLI
 * passes neither (a connection nothing is opened on hears nothing).
 */
export function createRuntime(loaded: LoadedConfig, log: Logger, send: (line: string) => void = () => undefined, connection = new Connection()): Runtime {
  const { config, codexHome, restrictions } = loaded;
  const storeOptions = storeOptionsFor(codexHome, config.cli_auth_credentials_store, config.keyring_poll_secs * 1000);
  const validateTask: ValidateTask = { store: storeOptions, restrictions };
  const tokens = new TokenService(log);
  const auth = new AuthState(tokens, validateTask, log);
  const store = openCredentialStore(storeOptions);
  const refresher = new RefreshCoordinator(tokens, auth, { ...validateTask, issuer: config.auth_issuer }, log, {
    // Rotated tokens the token service could not write: written here, unless the record they
    // replace has been replaced meanwhile (a logout or a new sign-in wins).
    persist: {
      saveRefreshed: (record, basedOn) =>
        store.withLock(async () => {
          const latest = await store.load();
          if (latest.kind !== 'present' || latest.fingerprint !== basedOn) return false;
          await store.save(record, { irreplaceable: true });
          return true;
        }),
    },
  });
  const notifier = new Notifier(send, connection);
  const logins = new LoginEngine({ config, restrictions, store: storeOptions, auth, log });
  logins.onComplete((completion) => {
    notifier.loginEnded(completion);
    if (completion.success && completion.snapshot) notifier.authChanged(completion.snapshot);
  });
  auth.onMethodChange((snapshot) => notifier.authChanged(snapshot));

  const inactiveSessions = new InactiveSessionRefresher(tokens, { store: storeOptions, restrictions, issuer: config.auth_issuer, refreshAfterMs: config.account_sessions_refresh_after_secs * 1000 }, log, store);
  const codexHomeSource = loaded.codexHomeSource ?? codexHomeOrigin().source;
  const context: ServerContext = { config, restrictions, codexHome, codexHomeSource, auth, store, storeOptions, tokens, refresher, inactiveSessions, notifier, logins, log };
  return {
    context,
    inactiveSessions,
    async close(graceMs) {
      const grace = new Promise((resolve) => setTimeout(resolve, graceMs).unref());
      auth.close();
      const inactivePass = inactiveSessions.close(grace);
      // A refresh already sent is let finish and persist (bounded by its attempt timeout): exiting
      // mid-request would lose a rotated refresh token. Meanwhile the login winds down.
      const refreshes = refresher.close();
      // Ending a pending login sends its completion, before the caller flushes its output.
      await Promise.race([logins.close(), grace]);
      await refreshes;
      // The pass is bounded by the grace inside; the last write of held tokens (the only copy) is not.
      await inactivePass;
      await Promise.race([tokens.close(), grace]);
    },
  };
}
