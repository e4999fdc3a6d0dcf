/**
 * The one JSON-RPC client of tests, bench and the demo: newline-delimited JSON-RPC over a spawned
 * server's stdio, as an MCP client (or Codex's app-server client) would speak it. Sends requests,
 * matches responses by id, and hands out notifications.
 *
 * One class, tuned per user by options instead of one client per user:
 * - tests (the defaults): every message and stdout line is kept, so `waitFor` sees the past too;
 *   a stdout line that is not JSON throws (and so fails the test); requests time out after 10 s.
 * - bench (`BENCH_OPTIONS`): nothing is kept, no timers, and everything sent in one turn goes out
 *   in one write (the client must not be the bottleneck it measures; the server batches too).
 * - Codex's app-server (`jsonrpc: false`, `badLines: 'collect'`): its dialect has no "jsonrpc".
 * Once the server's stdio has closed, every outstanding request is rejected with ServerExited.
 */
import type { ChildProcess } from 'node:child_process';
import type { Readable, Writable } from 'node:stream';

export type RpcId = number | string;

export interface RpcMessage {
  jsonrpc?: string;
  id?: RpcId | null;
  method?: string;
  params?: any;
  result?: any;
  error?: { code: number; message: string; data?: unknown };
}

export interface ExitStatus {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export class ServerExited extends Error {}

export interface RpcClientOptions {
  /** Put `"jsonrpc": "2.0"` on what request/notify send (default true; Codex's app-server leaves it out). */
  jsonrpc?: boolean;
  /** Keep every message in `messages` and every stdout line in `stdoutLines` (default true). */
  record?: boolean;
  /** Default timeout of request and waitFor, in ms; 0 = none (default 10 000). */
  timeoutMs?: number;
  /** Queue what is sent and write it once per turn, after this turn's promise continuations (default false). */
  batchWrites?: boolean;
  /** A stdout line that is not JSON: 'throw' (default) or 'collect' into badLines, blank lines skipped. */
  badLines?: 'throw' | 'collect';
  /** Keep the server's stderr in `stderr` (default true); false drains and drops it. */
  keepStderr?: boolean;
}

/** The bench's options: no records, no timers, one write per turn. */
export const BENCH_OPTIONS: RpcClientOptions = { record: false, timeoutMs: 0, batchWrites: true, badLines: 'collect', keepStderr: false };

/** Splits a text stream into lines: push each chunk, get the lines it completed. */
export class LineSplitter {
  private carry = '';

  push(chunk: string): string[] {
    const lines = (this.carry + chunk).split('\n');
    this.carry = lines.pop()!;
    return lines;
  }
}

/** A child process whose stdin and stdout are pipes (stderr may be inherited). */
export type PipedChild = ChildProcess & { stdin: Writable; stdout: Readable };

interface Pending {
  resolve(message: RpcMessage): void;
  reject(error: Error): void;
  timer: NodeJS.Timeout | undefined;
}

export class RpcClient<C extends PipedChild = PipedChild> {
  readonly messages: RpcMessage[] = [];
  readonly stdoutLines: string[] = [];
  /** stdout lines that were not JSON (with badLines: 'collect'); a conforming server leaves this empty. */
  readonly badLines: string[] = [];
  stderr = '';
  /** Resolves when the process exits (its stdout may still hold unread lines). */
  readonly exited: Promise<ExitStatus>;
  private readonly options: Required<RpcClientOptions>;
  private readonly lines = new LineSplitter();
  private readonly pending = new Map<RpcId, Pending>();
  private readonly listeners = new Set<(message: RpcMessage) => void>();
  private waiters: { match: (m: RpcMessage) => boolean; resolve: (m: RpcMessage) => void }[] = [];
  private readonly outgoing: string[] = [];
  private flushScheduled = false;
  private closedError: ServerExited | undefined;
  private nextId = 1;

  constructor(readonly child: C, options: RpcClientOptions = {}) {
    this.options = { jsonrpc: true, record: true, timeoutMs: 10_000, batchWrites: false, badLines: 'throw', keepStderr: true, ...options };
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (chunk: string) => this.receive(chunk));
    if (child.stderr && this.options.keepStderr) {
      child.stderr.setEncoding('utf8');
      child.stderr.on('data', (chunk: string) => (this.stderr += chunk));
    } else child.stderr?.resume();
    // Writing after the child died must not crash the run; the request is rejected or times out.
    child.stdin.on('error', () => undefined);
    this.exited = new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
    // 'close' comes after the exit and the end of stdout: no answer can arrive any more.
    child.once('close', (code, signal) => {
      this.closedError = new ServerExited(`server exited (${signal ?? `code ${code}`})`);
      for (const waiter of this.pending.values()) {
        clearTimeout(waiter.timer);
        waiter.reject(this.closedError);
      }
      this.pending.clear();
    });
  }

  /** Sends a raw line (no newline needed). */
  sendLine(line: string): void {
    if (!this.options.batchWrites) {
      this.child.stdin.write(`${line}\n`);
      return;
    }
    this.outgoing.push(line);
    if (this.flushScheduled) return;
    this.flushScheduled = true;
    process.nextTick(() => this.flush());
  }

  /** Sends a message as given. */
  send(message: object): void {
    this.sendLine(JSON.stringify(message));
  }

  notify(method: string, params?: unknown): void {
    this.send(this.message(undefined, method, params));
  }

  /** Sends a request and resolves with the whole response (result or error). params undefined = field omitted. */
  request(method: string, params?: unknown, id: RpcId = this.nextId++, timeoutMs = this.options.timeoutMs): Promise<RpcMessage> {
    return this.exchange(this.message(id, method, params), timeoutMs, method);
  }

  /** Like request, but rejects unless the response is a result; resolves with the result. */
  async call(method: string, params?: unknown): Promise<any> {
    const response = await this.request(method, params);
    if (response.error) throw new Error(`${method} failed: ${response.error.code} ${response.error.message}`);
    return response.result;
  }

  /**
   * Sends a message as given and resolves with the response to its id; a message without an id
   * (a notification) resolves at once with {}.
   */
  exchange(message: RpcMessage, timeoutMs = this.options.timeoutMs, what = String(message.method)): Promise<RpcMessage> {
    const { id } = message;
    if (id === undefined || id === null) {
      this.send(message);
      return Promise.resolve({});
    }
    if (this.closedError) return Promise.reject(this.closedError);
    if (this.pending.has(id)) return Promise.reject(new Error(`id ${JSON.stringify(id)} is already in flight`));
    const answered = new Promise<RpcMessage>((resolve, reject) => {
      const timer = timeoutMs > 0
        ? setTimeout(() => {
            this.pending.delete(id);
            reject(new Error(`timed out waiting for the response to ${what} #${id}; stderr:\n${this.stderr.slice(-2000)}`));
          }, timeoutMs)
        : undefined;
      this.pending.set(id, { resolve, reject, timer });
    });
    this.send(message);
    return answered;
  }

  /** MCP's handshake: initialize, then notifications/initialized; resolves with the initialize result. */
  async initialize(protocolVersion = '2025-06-18', clientName = 'codex-auth-mcp-tests'): Promise<any> {
    const result = await this.call('initialize', { protocolVersion, capabilities: {}, clientInfo: { name: clientName, version: '0' } });
    this.notify('notifications/initialized');
    return result;
  }

  /** Calls `listener` with every message that is not a response (notifications, server requests); returns its remover. */
  onNotification(listener: (message: RpcMessage) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Resolves with the first message (already received, when recorded, or future) that matches. */
  waitFor(match: (m: RpcMessage) => boolean, what = 'message', timeoutMs = this.options.timeoutMs): Promise<RpcMessage> {
    const seen = this.messages.find(match);
    if (seen) return Promise.resolve(seen);
    return new Promise((resolve, reject) => {
      const timer = timeoutMs > 0
        ? setTimeout(() => {
            this.waiters = this.waiters.filter((w) => w !== waiter);
            reject(new Error(`timed out waiting for ${what}; stderr:\n${this.stderr.slice(-2000)}`));
          }, timeoutMs)
        : undefined;
      const waiter = {
        match,
        resolve: (m: RpcMessage) => {
          clearTimeout(timer);
          resolve(m);
        },
      };
      this.waiters.push(waiter);
    });
  }

  waitForNotification(method: string, predicate: (params: any) => boolean = () => true, timeoutMs?: number): Promise<RpcMessage> {
    return this.waitFor((m) => m.method === method && m.id === undefined && predicate(m.params), `notification ${method}`, timeoutMs);
  }

  /** The notifications received so far (of `method`, if given); needs `record`. */
  notifications(method?: string): RpcMessage[] {
    return this.messages.filter((m) => m.method !== undefined && m.id === undefined && (!method || m.method === method));
  }

  /** Ends stdin and waits for the process to exit, SIGKILL after `timeoutMs`. */
  async close(timeoutMs = 5_000): Promise<ExitStatus> {
    this.flush();
    this.child.stdin.end();
    const timer = setTimeout(() => this.child.kill('SIGKILL'), timeoutMs);
    try {
      return await this.exited;
    } finally {
      clearTimeout(timer);
    }
  }

  kill(): void {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill('SIGKILL');
  }

  /** Built field by field, not spread: the bench sends these by the hundred thousand. */
  private message(id: RpcId | undefined, method: string, params: unknown): RpcMessage {
    const message: RpcMessage = this.options.jsonrpc ? { jsonrpc: '2.0' } : {};
    if (id !== undefined) message.id = id;
    message.method = method;
    if (params !== undefined) message.params = params;
    return message;
  }

  private flush(): void {
    this.flushScheduled = false;
    if (this.outgoing.length === 0) return;
    this.child.stdin.write(`${this.outgoing.join('\n')}\n`);
    this.outgoing.length = 0;
  }

  private receive(chunk: string): void {
    for (const line of this.lines.push(chunk)) {
      if (this.options.record) this.stdoutLines.push(line);
      let message: RpcMessage;
      try {
        message = JSON.parse(line);
      } catch {
        if (this.options.badLines === 'throw') throw new Error(`server wrote a non-JSON line to stdout: ${line.slice(0, 200)}`);
        if (line.trim()) this.badLines.push(line);
        continue;
      }
      if (this.options.record) this.messages.push(message);
      if (message.method === undefined && message.id !== undefined && message.id !== null) {
        const waiter = this.pending.get(message.id);
        if (waiter) {
          this.pending.delete(message.id);
          clearTimeout(waiter.timer);
          waiter.resolve(message);
        }
      } else {
        for (const listener of this.listeners) listener(message);
      }
      if (this.waiters.length === 0) continue;
      for (const waiter of this.waiters.filter((w) => w.match(message))) {
        this.waiters = this.waiters.filter((w) => w !== waiter);
        waiter.resolve(message);
      }
    }
  }
}
