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
import { TokenTasks, type TokenOutcome, type TokenTask, type TokenTaskName } from '../protocol/token-service-tasks.js';
import { MAX_WAITING_TASKS, adoptPrestartedPool, createTokenServicePool, earlyThreadSettled, type Piscina } from './token-service-pool.js';


/** The token service could not take the task: no thread could start, or too many are waiting. */
export class TokenServiceUnavailable extends Error {
  override readonly name = 'TokenServiceUnavailable';
}

export class TokenService {
  private pool: Piscina;
  /** Why the last pool was retired, for the tasks it failed. */
  private readonly retiredBecause = new WeakMap<Piscina, string>();
  /** Set by close(): from then on the pool's 'error' events are the teardown's own. */
  private closing = false;

  constructor(private readonly log?: Logger) {
    this.pool = this.startPool(adoptPrestartedPool());
  }

  async close(): Promise<void> {
    this.closing = true;
    await earlyThreadSettled(); // a thread torn down while it loads can abort the process
    await this.pool.destroy();
  }

  /**
   * Runs task `name` of the task table (src/protocol/token-service-tasks.ts) in the pool; its
   * answer is parsed with the table's outcome schema before anyone sees it.
   */
  async run<K extends TokenTaskName>(name: K, task: TokenTask<K>): Promise<TokenOutcome<K>> {
    const pool = this.pool;
    if (pool.queueSize >= MAX_WAITING_TASKS) {
      throw new TokenServiceUnavailable(`the token service is busy (${pool.queueSize} tasks waiting); try again shortly`);
    }
    let answer: unknown;
    try {
      answer = await pool.run(task, { name });
    } catch (error) {
      throw this.explain(pool, error);
    }
    return TokenTasks[name].outcome.parse(answer) as TokenOutcome<K>;
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
