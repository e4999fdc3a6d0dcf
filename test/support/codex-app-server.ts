/**
 * Drives the real Codex 0.171.0 `codex app-server` as a reference oracle in tests.
 *
 * Wire format (checked against 0.171.0): one JSON object per line on stdio, JSON-RPC 2.0 shapes
 * but WITHOUT the "jsonrpc" field. A client must send `initialize` and then the notification
 * `initialized` before anything else; `ready()` does both.
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { projectRoot } from './paths.js';

/** Path of the 0.171.0 musl binary shipped by @openai/codex-linux-x64. */
export const CODEX_0171_BINARY = `${projectRoot}node_modules/@openai/codex-linux-x64/vendor/x86_64-unknown-linux-musl/bin/codex`;

export interface RpcError { code: number; message: string; data?: unknown }
export interface RpcReply<T = any> { result?: T; error?: RpcError }
export interface Notification { method: string; params?: any }

export interface AppServerOptions {
  codexHome: string;
  /** Merged over the cleaned parent environment; a value of undefined removes that variable. */
  env?: Record<string, string | undefined>;
  /** e.g. `app-server` and its flags (startCodex0171 in codex-0171-offline.ts). */
  args: string[];
}

/** ChatGPT-plan cases can take ~7 s before `initialize` answers offline (see oracle results). */
const DEFAULT_TIMEOUT_MS = 60_000;
const CLOSE_GRACE_MS = 3_000;

export class AppServerClient {
  readonly notifications: Notification[] = [];
  stderr = '';
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  private nextId = 1;
  private buffer = '';
  private readonly pending = new Map<number, (reply: RpcReply) => void>();
  private waiters: { method: string; resolve: (n: Notification) => void }[] = [];
  /** How many notifications of each method nextNotification() has handed out already. */
  private readonly consumed = new Map<string, number>();
  /** stdout lines that were not JSON; a conforming server leaves this empty. */
  readonly badLines: string[] = [];

  constructor(readonly child: ChildProcessWithoutNullStreams) {
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (chunk: string) => this.receive(chunk));
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (chunk: string) => (this.stderr += chunk));
    // Writing after the child died must not crash the test run; the request just times out.
    child.stdin.on('error', () => undefined);
    this.exited = new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
  }

  private receive(chunk: string): void {
    this.buffer += chunk;
    let newline: number;
    while ((newline = this.buffer.indexOf('\n')) >= 0) {
      const line = this.buffer.slice(0, newline).trim();
      this.buffer = this.buffer.slice(newline + 1);
      if (!line) continue;
      let msg: { id?: number | string; method?: string; params?: unknown; result?: unknown; error?: RpcError };
      try {
        msg = JSON.parse(line);
      } catch {
        this.badLines.push(line); // throwing here would be an uncaught exception in the test runner
        continue;
      }
      if (msg.method !== undefined && msg.id !== undefined) continue; // server→client request: none are needed for auth
      if (msg.method !== undefined) {
        const note: Notification = { method: msg.method, params: msg.params };
        this.notifications.push(note);
        const i = this.waiters.findIndex((w) => w.method === note.method);
        if (i >= 0) this.waiters.splice(i, 1)[0]!.resolve(note);
      } else if (typeof msg.id === 'number' && this.pending.has(msg.id)) {
        const settle = this.pending.get(msg.id)!;
        this.pending.delete(msg.id);
        settle('error' in msg ? { error: msg.error! } : { result: msg.result });
      }
    }
  }

  private send(message: object): void {
    this.child.stdin.write(`${JSON.stringify(message)}\n`);
  }

  notify(method: string, params?: unknown): void {
    this.send(params === undefined ? { method } : { method, params });
  }

  /** Resolves with {result} or {error}; rejects only on timeout. params undefined = field omitted. */
  request<T = any>(method: string, params?: unknown, timeoutMs = DEFAULT_TIMEOUT_MS): Promise<RpcReply<T>> {
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new Error(`${method} got no reply within ${timeoutMs} ms`));
      }, timeoutMs);
      this.pending.set(id, (reply) => {
        clearTimeout(timer);
        resolve(reply as RpcReply<T>);
      });
      this.send(params === undefined ? { id, method } : { id, method, params });
    });
  }

  /** The first notification of `method` not yet consumed by an earlier call, waiting if needed. */
  nextNotification(method: string, timeoutMs = DEFAULT_TIMEOUT_MS): Promise<Notification> {
    const seen = this.notifications.filter((n) => n.method === method);
    const consumed = this.consumed.get(method) ?? 0;
    this.consumed.set(method, consumed + 1);
    if (seen.length > consumed) return Promise.resolve(seen[consumed]!);
    return new Promise((resolve, reject) => {
      const waiter = { method, resolve: (n: Notification) => { clearTimeout(timer); resolve(n); } };
      const timer = setTimeout(() => {
        this.waiters = this.waiters.filter((w) => w !== waiter);
        reject(new Error(`no ${method} notification within ${timeoutMs} ms`));
      }, timeoutMs);
      this.waiters.push(waiter);
    });
  }

  /**
   * initialize + initialized, as client `name` (0.171 sends it as the `originator` header of
   * request-driven refreshes). experimentalApi:true matches what Codex's own clients send and keeps
   * experimental fields in replies; 0.171 answers account/read and getAuthStatus without it too.
   */
  async ready(name = 'codex-auth-mcp-tests', timeoutMs = DEFAULT_TIMEOUT_MS): Promise<RpcReply> {
    const reply = await this.request('initialize', {
      clientInfo: { name, title: null, version: '0.0.0' },
      capabilities: { experimentalApi: true },
    }, timeoutMs);
    if (reply.error) throw new Error(`0.171 initialize failed: ${reply.error.message}\n${this.stderr.slice(-2000)}`);
    this.notify('initialized');
    return reply;
  }

  /** Ends stdin (app-server exits on EOF), then SIGTERM and SIGKILL if it lingers. */
  async close(graceMs = CLOSE_GRACE_MS): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
    if (this.child.exitCode === null && this.child.signalCode === null) {
      this.child.stdin.end();
      const term = setTimeout(() => this.child.kill('SIGTERM'), graceMs);
      const kill = setTimeout(() => this.child.kill('SIGKILL'), graceMs * 2);
      try { return await this.exited; } finally { clearTimeout(term); clearTimeout(kill); }
    }
    return this.exited;
  }
}

/**
 * The parent environment with `overrides` merged over it (undefined removes a variable), less
 * OPENAI_API_KEY / CODEX_API_KEY so the developer's own key cannot leak into a case, and with
 * RUST_LOG=error unless overridden (keeps stderr small).
 */
export function cleanEnv(overrides: Record<string, string | undefined>): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries({ ...process.env, OPENAI_API_KEY: undefined, CODEX_API_KEY: undefined, RUST_LOG: 'error', ...overrides })) {
    if (v !== undefined) env[k] = v;
  }
  return env;
}

/** Starts `codex <args>` (an app-server) in codexHome, in cleanEnv(options.env). */
export function spawnAppServer(options: AppServerOptions): AppServerClient {
  const env = cleanEnv({ ...options.env, CODEX_HOME: options.codexHome });
  const child = spawn(CODEX_0171_BINARY, options.args, { env, stdio: ['pipe', 'pipe', 'pipe'] });
  return new AppServerClient(child);
}
