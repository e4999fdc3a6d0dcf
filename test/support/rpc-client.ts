/**
 * A JSON-RPC client over a spawned server's stdio, as an MCP client would use it: send requests,
 * await their responses by id, and await notifications. Every line the server writes to stdout
 * must be a JSON-RPC message; anything else fails the test that reads it.
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { once } from 'node:events';
import { serverEntry, originalCodexBinary } from './paths.js';

export interface RpcMessage {
  jsonrpc?: string;
  id?: string | number | null;
  method?: string;
  params?: any;
  result?: any;
  error?: { code: number; message: string; data?: unknown };
}

export interface SpawnOptions {
  codexHome: string;
  args?: string[];
  env?: Record<string, string | undefined>;
  /** Run the original Rust `codex mcp` instead of ours. */
  original?: boolean;
}

const DEFAULT_TIMEOUT_MS = 10_000;

export class RpcClient {
  readonly messages: RpcMessage[] = [];
  readonly stdoutLines: string[] = [];
  stderr = '';
  private nextId = 1;
  private buffer = '';
  private waiters: { match: (m: RpcMessage) => boolean; resolve: (m: RpcMessage) => void }[] = [];
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;

  constructor(readonly child: ChildProcessWithoutNullStreams) {
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (chunk: string) => this.receive(chunk));
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (chunk: string) => (this.stderr += chunk));
    child.stdin.on('error', () => undefined);
    this.exited = once(child, 'exit').then(([code, signal]) => ({ code, signal }));
  }

  /** Sends a raw line (no newline needed). */
  sendLine(line: string): void {
    this.child.stdin.write(`${line}\n`);
  }

  send(message: object): void {
    this.sendLine(JSON.stringify(message));
  }

  notify(method: string, params?: unknown): void {
    this.send({ jsonrpc: '2.0', method, ...(params !== undefined && { params }) });
  }

  /** Sends a request and resolves with the whole response message (result or error). */
  request(method: string, params?: unknown, id: string | number = this.nextId++, timeoutMs = DEFAULT_TIMEOUT_MS): Promise<RpcMessage> {
    const response = this.waitFor((m) => m.id === id && m.method === undefined, `response to ${method} #${id}`, timeoutMs);
    this.send({ jsonrpc: '2.0', id, method, ...(params !== undefined && { params }) });
    return response;
  }

  /** Like request, but rejects unless the response is a result; resolves with the result. */
  async call(method: string, params?: unknown): Promise<any> {
    const response = await this.request(method, params);
    if (response.error) throw new Error(`${method} failed: ${response.error.code} ${response.error.message}`);
    return response.result;
  }

  async initialize(protocolVersion = '2025-06-18'): Promise<any> {
    const result = await this.call('initialize', {
      protocolVersion,
      capabilities: {},
      clientInfo: { name: 'codex-auth-mcp-tests', version: '0' },
    });
    this.notify('notifications/initialized');
    return result;
  }

  /** Resolves with the first message (already received or future) that matches. */
  waitFor(match: (m: RpcMessage) => boolean, what = 'message', timeoutMs = DEFAULT_TIMEOUT_MS): Promise<RpcMessage> {
    const seen = this.messages.find(match);
    if (seen) return Promise.resolve(seen);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiters = this.waiters.filter((w) => w !== waiter);
        reject(new Error(`timed out waiting for ${what}; stderr:\n${this.stderr.slice(-2000)}`));
      }, timeoutMs);
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

  waitForNotification(method: string, predicate: (params: any) => boolean = () => true, timeoutMs?: number) {
    return this.waitFor((m) => m.method === method && m.id === undefined && predicate(m.params), `notification ${method}`, timeoutMs);
  }

  notifications(method?: string): RpcMessage[] {
    return this.messages.filter((m) => m.method !== undefined && m.id === undefined && (!method || m.method === method));
  }

  /** Closes stdin and waits for the process to exit. */
  async close(timeoutMs = 5_000): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
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

  private receive(chunk: string): void {
    this.buffer += chunk;
    let newline = this.buffer.indexOf('\n');
    while (newline >= 0) {
      const line = this.buffer.slice(0, newline);
      this.buffer = this.buffer.slice(newline + 1);
      this.stdoutLines.push(line);
      let message: RpcMessage;
      try {
        message = JSON.parse(line);
      } catch {
        throw new Error(`server wrote a non-JSON line to stdout: ${line.slice(0, 200)}`);
      }
      this.messages.push(message);
      for (const waiter of this.waiters.filter((w) => w.match(message))) {
        this.waiters = this.waiters.filter((w) => w !== waiter);
        waiter.resolve(message);
      }
      newline = this.buffer.indexOf('\n');
    }
  }
}

/** Spawns our built server (or the original) with a clean environment plus `env`. */
export function spawnServer(options: SpawnOptions): RpcClient {
  const env: Record<string, string> = {};
  for (const key of ['PATH', 'HOME', 'LANG', 'TMPDIR', 'SYSTEMROOT', 'NODE_EXTRA_CA_CERTS']) {
    if (process.env[key]) env[key] = process.env[key]!;
  }
  env['CODEX_HOME'] = options.codexHome;
  for (const [key, value] of Object.entries(options.env ?? {})) {
    if (value === undefined) delete env[key];
    else env[key] = value;
  }
  const child = options.original
    ? spawn(originalCodexBinary, ['mcp', ...(options.args ?? [])], { env })
    : spawn(process.execPath, [serverEntry, ...(options.args ?? [])], { env });
  return new RpcClient(child);
}

/** Spawns our server for one test and stops it when the test ends. */
export function startServer(t: { after(fn: () => unknown): void }, options: SpawnOptions): RpcClient {
  const client = spawnServer(options);
  t.after(async () => {
    client.kill();
    await client.exited;
  });
  return client;
}
