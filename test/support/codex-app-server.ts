/**
 * Drives the real Codex 0.171.0 `codex app-server` as a reference oracle in tests.
 *
 * Wire format (checked against 0.171.0): one JSON object per line on stdio, JSON-RPC 2.0 shapes
 * but WITHOUT the "jsonrpc" field. A client must send `initialize` and then the notification
 * `initialized` before anything else; `ready()` does both.
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { RpcClient, ServerExited, type ExitStatus } from '../../dev/rpc-client.js';
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
  /** A command the binary is run under (e.g. support/etc-codex.ts's private /etc/codex). */
  wrapper?: readonly string[];
}

/** ChatGPT-plan cases can take ~7 s before `initialize` answers offline (see oracle results). */
const DEFAULT_TIMEOUT_MS = 60_000;
const CLOSE_GRACE_MS = 3_000;

/** The shared client (dev/rpc-client.ts) in 0.171's dialect, with replies as {result} or {error}. */
export class AppServerClient {
  private readonly rpc: RpcClient<ChildProcessWithoutNullStreams>;
  /** How many notifications of each method nextNotification() has handed out already. */
  private readonly consumed = new Map<string, number>();

  constructor(readonly child: ChildProcessWithoutNullStreams) {
    // A non-JSON line is kept in badLines: throwing would be an uncaught exception in the test runner.
    this.rpc = new RpcClient(child, { jsonrpc: false, badLines: 'collect', timeoutMs: DEFAULT_TIMEOUT_MS });
  }

  get stderr(): string {
    return this.rpc.stderr;
  }

  get exited(): Promise<ExitStatus> {
    return this.rpc.exited;
  }

  /** stdout lines that were not JSON; a conforming server leaves this empty. */
  get badLines(): string[] {
    return this.rpc.badLines;
  }

  /** Every notification so far (server→client requests are not; none are needed for auth). */
  get notifications(): Notification[] {
    return this.rpc.notifications().map(({ method, params }) => ({ method: method!, params }));
  }

  notify(method: string, params?: unknown): void {
    this.rpc.notify(method, params);
  }

  /** Resolves with {result} or {error}; rejects on timeout or once the server has gone. params undefined = field omitted. */
  async request<T = any>(method: string, params?: unknown, timeoutMs = DEFAULT_TIMEOUT_MS): Promise<RpcReply<T>> {
    const reply = await this.rpc.request(method, params, undefined, timeoutMs).catch((error: Error) => {
      throw error instanceof ServerExited ? error : new Error(`${method} got no reply within ${timeoutMs} ms`);
    });
    return 'error' in reply ? { error: reply.error! } : { result: reply.result };
  }

  /** The first notification of `method` not yet consumed by an earlier call, waiting if needed. */
  async nextNotification(method: string, timeoutMs = DEFAULT_TIMEOUT_MS): Promise<Notification> {
    const nth = this.consumed.get(method) ?? 0;
    this.consumed.set(method, nth + 1);
    let seen = 0;
    const note = await this.rpc
      .waitFor((m) => m.method === method && m.id === undefined && seen++ === nth, `notification ${method}`, timeoutMs)
      .catch(() => {
        throw new Error(`no ${method} notification within ${timeoutMs} ms`);
      });
    return { method, params: note.params };
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
  async close(graceMs = CLOSE_GRACE_MS): Promise<ExitStatus> {
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
  const wrapper = options.wrapper ?? [];
  const child = wrapper.length
    ? spawn(wrapper[0]!, [...wrapper.slice(1), CODEX_0171_BINARY, ...options.args], { env, stdio: ['pipe', 'pipe', 'pipe'] })
    : spawn(CODEX_0171_BINARY, options.args, { env, stdio: ['pipe', 'pipe', 'pipe'] });
  return new AppServerClient(child);
}
