/**
 * The login engine: the one place sign-ins are started, cancelled and finished, whatever API
 * asked for them (v1 `loginChatGpt`, v2 `account/login/start`, the MCP `login` tool, the CLI).
 *
 * At most one login is active; starting another supersedes it. Each login ends exactly once and
 * its completion goes to every `onComplete` listener, but only after the request that started it
 * has been answered (`release`), so a client never sees a completion before its loginId.
 *
 * Starts and cancels take turns (`oneAtATime`): a start awaits the worker (binding a port can take
 * a while), and anything that ran in that gap would look at a stale `active`. Two starts in one
 * stdin chunk both stayed alive that way, and a logout could miss a login being started.
 */
import { randomUUID } from 'node:crypto';
import type { AuthState } from '../auth/auth-state.js';
import type { StoreOptions } from '../protocol/storage.js';
import type { Config } from '../config/schema.js';
import type { Logger } from '../log.js';
import { internalError } from '../protocol/jsonrpc.js';
import { CLIENT_ID, LoginWorkerEventSchema, type LoginEnded, type LoginWorkerEvent } from '../protocol/login.js';
import type { AuthSnapshot } from '../protocol/snapshot.js';
import { LoginWorkerClient } from './login-worker-client.js';

/** A login's ending as the worker reported it, with the auth state a success left behind. */
import type { LoginRestrictions } from '../protocol/login-restrictions.js';

/** 0.171 lets CODEX_INTERNAL_ORIGINATOR_OVERRIDE replace its `originator`; so do we (read here: workers get no environment of their own to read). */
function originatorOverride(): { originator?: string } {
  const value = process.env['CODEX_INTERNAL_ORIGINATOR_OVERRIDE'];
  return value ? { originator: value } : {};
}

export type LoginCompletion = LoginEnded & {
  readonly loginId: string;
  /** The auth state after a successful login (for the method actually in force). */
  readonly snapshot?: AuthSnapshot;
};

export type CompletionListener = (completion: LoginCompletion) => void;

interface ActiveLogin {
  readonly loginId: string;
  released: boolean;
  ended: boolean;
  held?: LoginCompletion;
  mutation?: { finish(): Promise<AuthSnapshot> };
}

export interface LoginEngineOptions {
  readonly config: Config;
  /** forced_chatgpt_workspace_id (with requirements.toml): what a sign-in asks for and must come back with. */
  readonly restrictions?: LoginRestrictions;
  readonly store: StoreOptions;
  readonly auth: Pick<AuthState, 'beginMutation'>;
  readonly log: Logger;
  /** The login worker's file (tests substitute one that misbehaves). */
  readonly workerFile?: URL;
}

/** What a login that was running in a worker that died ends with. */
export const WORKER_STOPPED_ERROR = 'Login server error: the login worker stopped unexpectedly';

export class LoginEngine {
  private readonly worker: LoginWorkerClient;
  private readonly listeners: CompletionListener[] = [];
  private readonly logins = new Map<string, ActiveLogin>();
  private active: ActiveLogin | undefined;
  /** The tail of the turn queue of starts and cancels; never rejects. */
  private turn: Promise<unknown> = Promise.resolve();
  /** Set by close(): a start still queued then is refused rather than given a fresh worker. */
  private closing = false;

  constructor(private readonly options: LoginEngineOptions) {
    this.worker = new LoginWorkerClient(options.workerFile);
    this.worker.onUnexpectedExit((reason) => this.workerStopped(reason));
  }

  /** Every completion goes to every listener, once, after the starting request was answered. */
  onComplete(listener: CompletionListener): void {
    this.listeners.push(listener);
  }

  /** Starts a browser sign-in; a pending login is superseded first. Throws -32603 when no port can be bound. */
  async startChatGpt(hints: { loginHint?: string; allowedWorkspaceId?: string } = {}): Promise<{ loginId: string; authUrl: string }> {
    const { config } = this.options;
    const { login, started } = await this.start((loginId, onEvent) =>
      this.worker.startBrowserLogin(
        { loginId, issuer: config.auth_issuer, clientId: CLIENT_ID, port: config.login_callback_port, timeoutMs: config.login_timeout_secs * 1000, store: this.storeOptions(), ...this.workspaceRule(), ...originatorOverride(), ...hints },
        onEvent,
      ),
    );
    if (!started.ok) throw internalError(`failed to start login server: ${started.message}`);
    return { loginId: login.loginId, authUrl: started.authUrl };
  }

  /** Starts a device-code sign-in; a pending login is superseded first. */
  async startDeviceCode(): Promise<{ loginId: string; verificationUrl: string; userCode: string }> {
    const { config } = this.options;
    const { login, started } = await this.start((loginId, onEvent) =>
      this.worker.startDeviceLogin(
        { loginId, issuer: config.auth_issuer, clientId: CLIENT_ID, timeoutMs: config.device_code_timeout_secs * 1000, store: this.storeOptions(), ...this.workspaceRule() },
        onEvent,
      ),
    );
    if (!started.ok) throw internalError(started.message);
    return { loginId: login.loginId, verificationUrl: started.verificationUrl, userCode: started.userCode };
  }

  private start<R extends { ok: boolean; message?: string }>(
    begin: (loginId: string, onEvent: (event: LoginWorkerEvent) => Promise<void>) => Promise<R>,
  ): Promise<{ login: ActiveLogin; started: R | { ok: false; message: string } }> {
    return this.oneAtATime(async () => {
      if (this.closing) throw internalError('failed to start login server: the server is shutting down');
      if (this.active) await this.endActive('superseded');
      const login = this.track();
      const started = await begin(login.loginId, (event) => this.onWorkerEvent(login, event)).catch((error: Error) => ({ ok: false as const, message: error.message }));
      if (!started.ok) this.forget(login);
      return { login, started };
    });
  }

  /** Runs `fn` once every start and cancel queued before it has finished; the next waits for it. */
  private oneAtATime<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.turn.then(fn);
    this.turn = run.catch(() => undefined);
    return run;
  }

  private workspaceRule(): { forcedWorkspaceIds?: string[] } {
    const ids = this.options.restrictions?.allowedWorkspaceIds;
    return ids ? { forcedWorkspaceIds: [...ids] } : {};
  }

  /** A plain copy for the worker message (the ephemeral store's shared memory goes along). */
  private storeOptions(): StoreOptions {
    return { ...this.options.store };
  }

  /** Lets a login's completion through once the response that named it has been sent. */
  release(loginId: string): void {
    const login = this.logins.get(loginId);
    if (!login) return;
    login.released = true;
    if (login.held) this.deliver(login, login.held);
  }

  /** Cancels the given login; false when it is not the one running. Waits for a start in progress. */
  cancel(loginId: string): Promise<boolean> {
    return this.oneAtATime(async () => {
      if (this.active?.loginId !== loginId) return false;
      await this.endActive('cancelled');
      return true;
    });
  }

  /** Cancels whatever login is running, including one still being started. */
  cancelActive(reason: 'cancelled' | 'superseded' = 'cancelled'): Promise<void> {
    return this.oneAtATime(async () => {
      if (this.active) await this.endActive(reason);
    });
  }

  get activeLoginId(): string | undefined {
    return this.active?.loginId;
  }

  /** Refuses further starts, lets the one in progress finish, then ends every login and the worker. */
  async close(): Promise<void> {
    this.closing = true;
    await this.turn;
    await this.worker.stop();
  }

  private async endActive(reason: 'cancelled' | 'superseded'): Promise<void> {
    const login = this.active!;
    this.active = undefined;
    const found = await this.worker.cancel(login.loginId, reason).catch(() => false);
    // The worker reports the ending itself; if it no longer knew the login, report it here.
    if (!found && !login.ended) {
      this.complete(login, { success: false, errorCode: reason, error: 'Login server error: Login was not completed' });
    }
  }

  private track(): ActiveLogin {
    const login: ActiveLogin = { loginId: randomUUID(), released: false, ended: false };
    this.logins.set(login.loginId, login);
    this.active = login;
    return login;
  }

  private forget(login: ActiveLogin): void {
    this.logins.delete(login.loginId);
    if (this.active === login) this.active = undefined;
  }

  /** The worker died: none of its logins will report an ending, so end them here. */
  private workerStopped(reason: string): void {
    this.options.log.error({ reason: reason.slice(0, 200) }, 'the login worker stopped unexpectedly');
    for (const login of [...this.logins.values()]) {
      if (login.ended) continue;
      void login.mutation?.finish().catch(() => undefined);
      this.complete(login, { success: false, errorCode: 'internal_error', error: WORKER_STOPPED_ERROR });
    }
  }

  private async onWorkerEvent(login: ActiveLogin, raw: LoginWorkerEvent): Promise<void> {
    const event = LoginWorkerEventSchema.parse(raw);
    if (login.ended) return; // already ended here (the worker died, or forgot it)
    if (event.type === 'persisting') {
      login.mutation = this.options.auth.beginMutation();
      return;
    }
    const snapshot = await login.mutation?.finish().catch((error: Error) => {
      this.options.log.error({ err: error.message }, 'could not re-read the credentials after a login');
      return undefined;
    });
    const { type: _event, loginId: _id, ...ended } = event;
    this.complete(login, { ...ended, ...(event.success && snapshot && { snapshot }) });
  }

  private complete(login: ActiveLogin, outcome: Omit<LoginCompletion, 'loginId'>): void {
    if (login.ended) return;
    login.ended = true;
    if (this.active === login) this.active = undefined;
    const completion: LoginCompletion = { loginId: login.loginId, ...outcome };
    this.options.log.info({ loginId: login.loginId, success: completion.success, errorCode: completion.errorCode }, 'login ended');
    if (login.released) this.deliver(login, completion);
    else login.held = completion;
  }

  private deliver(login: ActiveLogin, completion: LoginCompletion): void {
    this.logins.delete(login.loginId);
    login.held = undefined;
    for (const listener of this.listeners) listener(completion);
  }
}
