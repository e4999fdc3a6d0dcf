/**
 * The main thread's handle on the login worker: started on first use, wrapped with comlink, and
 * guarded so that a worker that dies rejects every pending call instead of leaving it hanging
 * (comlink itself never settles calls into a dead worker).
 */
import { Worker } from 'node:worker_threads';
import * as Comlink from 'comlink';
import nodeEndpoint from 'comlink/dist/esm/node-adapter.mjs';
import type { LoginWorkerApi, LoginWorkerEvent } from '../protocol/login.js';
import type { StartBrowserLogin } from '../protocol/login.js';
import {
  StartBrowserLoginResultSchema,
  StartDeviceLoginResultSchema,
  type StartBrowserLoginResult,
  type StartDeviceLogin,
  type StartDeviceLoginResult,
} from '../protocol/login.js';
import { workerFile } from '../worker-files.js';

const WORKER_FILE = workerFile('login');

export class LoginWorkerClient {
  private worker: Worker | undefined;
  private remote: Comlink.Remote<LoginWorkerApi> | undefined;
  private died: Promise<never> | undefined;
  /** The worker `stop()` is ending: its exit is expected. */
  private stopping: Worker | undefined;
  private readonly exitListeners: ((reason: string) => void)[] = [];

  /** The worker file; tests substitute one that misbehaves. */
  constructor(private readonly workerFile: URL = WORKER_FILE) {}

  /**
   * Called once when the worker thread ends without being asked to (an uncaught exception, an
   * out-of-memory kill): every login it ran is gone and will never report its ending itself.
   */
  onUnexpectedExit(listener: (reason: string) => void): void {
    this.exitListeners.push(listener);
  }

  async startBrowserLogin(request: StartBrowserLogin, onEvent: (event: LoginWorkerEvent) => Promise<void>): Promise<StartBrowserLoginResult> {
    const result: unknown = await this.call((remote) => remote.startBrowserLogin(request, Comlink.proxy(onEvent)) as Promise<unknown>);
    return StartBrowserLoginResultSchema.parse(result);
  }

  async startDeviceLogin(request: StartDeviceLogin, onEvent: (event: LoginWorkerEvent) => Promise<void>): Promise<StartDeviceLoginResult> {
    const result: unknown = await this.call((remote) => remote.startDeviceLogin(request, Comlink.proxy(onEvent)) as Promise<unknown>);
    return StartDeviceLoginResultSchema.parse(result);
  }

  cancel(loginId: string, reason: 'cancelled' | 'superseded'): Promise<boolean> {
    return this.call((remote) => remote.cancel(loginId, reason));
  }

  /** Ends every login, then the thread. Safe to call when the worker never started. */
  async stop(): Promise<void> {
    if (!this.worker) return;
    const worker = this.worker;
    this.stopping = worker;
    await this.call((remote) => remote.stop()).catch(() => undefined);
    this.remote?.[Comlink.releaseProxy]();
    this.worker = undefined;
    this.remote = undefined;
    await worker.terminate();
  }

  private call<T>(fn: (remote: Comlink.Remote<LoginWorkerApi>) => Promise<T>): Promise<T> {
    const remote = this.ensureWorker();
    return Promise.race([fn(remote), this.died!]);
  }

  private ensureWorker(): Comlink.Remote<LoginWorkerApi> {
    if (this.remote) return this.remote;
    const worker = new Worker(this.workerFile);
    this.worker = worker;
    this.remote = Comlink.wrap<LoginWorkerApi>(nodeEndpoint(worker));
    this.died = new Promise<never>((_, reject) => {
      let ended = false;
      const fail = (why: string) => {
        if (ended) return; // 'error' is followed by 'exit'
        ended = true;
        if (this.worker === worker) {
          this.worker = undefined;
          this.remote = undefined;
        }
        reject(new Error(`login worker stopped: ${why}`));
        if (this.stopping !== worker) for (const listener of this.exitListeners) listener(why);
      };
      worker.once('error', (error) => fail(error.message));
      worker.once('exit', (code) => fail(`exit code ${code}`));
    });
    this.died.catch(() => undefined);
    return this.remote;
  }
}
