/**
 * Main-thread handle on the token service pool. The main thread never does network I/O: reading
 * and validating credentials and refreshing tokens all happen in these workers.
 *
 * A thread that cannot start (EMFILE: too many open files, no memory) fails the tasks waiting for
 * it with `TokenServiceUnavailable`, never the process: Piscina reports such a failure as an
 * 'error' event, which unheard would end the server. The pool that failed is retired (tasks
 * already running in it finish, a refresh among them keeps its rotated token) and a fresh one
 * takes the next task, so the service recovers by itself once the cause is gone.
 */
import type { Logger } from '../log.js';
import { AuthSnapshotSchema, RefreshOutcomeSchema, type AuthSnapshot, type RefreshOutcome } from '../protocol/snapshot.js';
import {
  RefreshInactiveOutcomeSchema,
  RevokeOutcomeSchema,
  SessionOutcomeSchema,
  type ListSessionsTask,
  type RefreshInactiveOutcome,
  type RefreshInactiveTask,
  type RefreshTask,
  type RemoveSessionTask,
  type RevokeOutcome,
  type RevokeTask,
  type SessionOutcome,
  type SwitchSessionTask,
  type ValidateTask,
} from '../protocol/token-service-tasks.js';
import { MAX_WAITING_TASKS, adoptPrestartedPool, createTokenServicePool, earlyThreadSettled, type Piscina } from './token-service-pool.js';


/** The token service could not take the task: no thread could start, or too many are waiting. */
export class TokenServiceUnavailable extends Error {
  override readonly name = 'TokenServiceUnavailable';
}

type TaskName = 'validate' | 'refresh' | 'revoke' | 'listSessions' | 'switchSession' | 'removeSession' | 'refreshInactive';

export class TokenService {
  private pool: Piscina;
  /** Why the last pool was retired, for the tasks it failed. */
  private readonly retiredBecause = new WeakMap<Piscina, string>();
  /** Set by close(): from then on the pool's 'error' events are the teardown's own. */
  private closing = false;

  constructor(private readonly log?: Logger) {
    this.pool = this.startPool(adoptPrestartedPool());
  }

  async validate(task: ValidateTask): Promise<AuthSnapshot> {
    return AuthSnapshotSchema.parse(await this.run('validate', task));
  }

  /**
   * Never aborted (aborting a piscina task kills its thread, and with rotation the new refresh
   * token would be lost); the RefreshControl in the task steers it instead.
   */
  async refresh(task: RefreshTask): Promise<RefreshOutcome> {
    return RefreshOutcomeSchema.parse(await this.run('refresh', task));
  }

  async revoke(task: RevokeTask): Promise<RevokeOutcome> {
    return RevokeOutcomeSchema.parse(await this.run('revoke', task));
  }

  async listSessions(task: ListSessionsTask): Promise<SessionOutcome> {
    return SessionOutcomeSchema.parse(await this.run('listSessions', task));
  }

  /** Like refresh, never aborted: a switch may rotate the target's refresh token. */
  async switchSession(task: SwitchSessionTask): Promise<SessionOutcome> {
    return SessionOutcomeSchema.parse(await this.run('switchSession', task));
  }

  async removeSession(task: RemoveSessionTask): Promise<SessionOutcome> {
    return SessionOutcomeSchema.parse(await this.run('removeSession', task));
  }

  async refreshInactive(task: RefreshInactiveTask): Promise<RefreshInactiveOutcome> {
    return RefreshInactiveOutcomeSchema.parse(await this.run('refreshInactive', task));
  }

  async close(): Promise<void> {
    this.closing = true;
    await earlyThreadSettled(); // a thread torn down while it loads can abort the process
    await this.pool.destroy();
  }

  private async run(name: TaskName, task: unknown): Promise<unknown> {
    const pool = this.pool;
    if (pool.queueSize >= MAX_WAITING_TASKS) {
      throw new TokenServiceUnavailable(`the token service is busy (${pool.queueSize} tasks waiting); try again shortly`);
    }
    try {
      return await pool.run(task, { name });
    } catch (error) {
      throw this.explain(pool, error);
    }
  }

  /** A failure of the pool itself becomes TokenServiceUnavailable with its cause; a task's own error passes through. */
  private explain(pool: Piscina, error: unknown): unknown {
    const retired = this.retiredBecause.get(pool);
    if (retired !== undefined && (error as Error)?.name === 'AbortError') {
      return new TokenServiceUnavailable(`the token service could not start a thread (${retired}); try again shortly`);
    }
    if ((error as NodeJS.ErrnoException)?.code === 'ERR_WORKER_INIT_FAILED') {
      return new TokenServiceUnavailable(`the token service could not start a thread (${causeOf(error)}); try again shortly`);
    }
    return error;
  }

  private startPool(adopt?: Piscina): Piscina {
    const pool = adopt ?? createTokenServicePool();
    pool.on('error', (error: unknown) => this.onPoolError(pool, error));
    return pool;
  }

  private onPoolError(pool: Piscina, error: unknown): void {
    // Destroying the pool fails the tasks still running, and a reply one of them had already
    // posted then arrives for a task Piscina no longer knows: it reports that as an 'error'
    // ("Unexpected message from Worker"). At exit that is no failure to start, and no news.
    if (this.closing) return;
    const cause = causeOf(error);
    this.log?.error({ err: cause }, 'a token service thread failed to start; its waiting tasks fail and a new pool takes over');
    if (pool !== this.pool) return;
    // Tasks queued in this pool wait for a thread that may never start; retiring the pool fails
    // them (close with force rejects only tasks not yet running) and lets running ones finish.
    this.retiredBecause.set(pool, cause);
    this.pool = this.startPool();
    pool.close({ force: true }).catch(() => undefined);
  }
}

/** The system error behind a worker failure (e.g. "EMFILE"), without anything from a task. */
function causeOf(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  const errno = /\b(E[A-Z]{3,})\b/.exec(message)?.[1];
  return errno ? `${errno}${errno === 'EMFILE' ? ': too many open files' : ''}` : message.slice(0, 200);
}
