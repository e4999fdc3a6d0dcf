/**
 * A minimal JSON-RPC client over a child's stdio for benchmarks and replays: sends requests,
 * matches answers by id, and records latencies (microseconds) in an HDR histogram.
 *
 * The client must not be the bottleneck it measures: requests issued in the same turn (e.g. all
 * the lanes woken by one chunk of answers) go out in one write, as the server batches its own.
 * If the server exits, every outstanding request is rejected instead of hanging.
 */
import type { ChildProcessWithoutNullStreams } from 'node:child_process';
import hdr from 'hdr-histogram-js';

export type Histogram = ReturnType<typeof hdr.build>;
export const newHistogram = (): Histogram =>
  hdr.build({ lowestDiscernibleValue: 1, highestTrackableValue: 60_000_000, numberOfSignificantValueDigits: 3 });

export type RpcId = number | string;
export interface RpcMessage {
  jsonrpc?: string;
  id?: RpcId | null;
  method?: string;
  params?: any;
  result?: any;
  error?: { code: number; message: string; data?: unknown };
}

export class ServerExited extends Error {}

export class RpcPipe {
  private readonly waiting = new Map<RpcId, { resolve(message: RpcMessage): void; reject(error: Error): void }>();
  private readonly notificationListeners = new Set<(message: RpcMessage) => void>();
  private readonly outgoing: string[] = [];
  private flushScheduled = false;
  private carry = '';
  private nextId = 1;
  private exitError: ServerExited | undefined;
  /** Resolves with the exit code (or signal) when the server process ends. */
  readonly exited: Promise<number | string>;

  constructor(readonly child: ChildProcessWithoutNullStreams) {
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (chunk: string) => this.receive(chunk));
    child.stderr.resume();
    child.stdin.on('error', () => undefined);
    this.exited = new Promise((resolve) => {
      child.once('exit', (code, signal) => {
        this.exitError = new ServerExited(`server exited (${signal ?? `code ${code}`})`);
        for (const waiter of this.waiting.values()) waiter.reject(this.exitError);
        this.waiting.clear();
        resolve(signal ?? code ?? -1);
      });
    });
  }

  /** Sends a request with a fresh numeric id. */
  request(method: string, params: unknown = {}): Promise<RpcMessage> {
    return this.send({ jsonrpc: '2.0', id: this.nextId++, method, params });
  }

  /** Sends a message as given; resolves with the response when it has an id, at once when it is a notification. */
  send(message: RpcMessage): Promise<RpcMessage> {
    if (this.exitError) return Promise.reject(this.exitError);
    const line = JSON.stringify(message);
    const { id } = message;
    if (id === undefined || id === null) {
      this.queue(line);
      return Promise.resolve({});
    }
    if (this.waiting.has(id)) return Promise.reject(new Error(`id ${JSON.stringify(id)} is already in flight`));
    const answered = new Promise<RpcMessage>((resolve, reject) => this.waiting.set(id, { resolve, reject }));
    this.queue(line);
    return answered;
  }

  /** Calls `listener` for every notification; returns a function that removes it. */
  onNotification(listener: (message: RpcMessage) => void): () => void {
    this.notificationListeners.add(listener);
    return () => this.notificationListeners.delete(listener);
  }

  /** Sends `total` requests keeping `inFlight` outstanding; returns requests/s, the latency histogram and the error answers. */
  async load(
    method: string,
    params: unknown,
    total: number,
    inFlight: number,
  ): Promise<{ perSecond: number; histogram: Histogram; errors: number }> {
    const histogram = newHistogram();
    let sent = 0;
    let errors = 0;
    const started = process.hrtime.bigint();
    const lane = async () => {
      while (sent < total) {
        sent++;
        const t0 = process.hrtime.bigint();
        const answer = await this.request(method, params);
        histogram.recordValue(Number((process.hrtime.bigint() - t0) / 1000n));
        if (answer.error) errors++;
      }
    };
    await Promise.all(Array.from({ length: inFlight }, lane));
    const seconds = Number(process.hrtime.bigint() - started) / 1e9;
    return { perSecond: total / seconds, histogram, errors };
  }

  /** Ends stdin and waits for the server to exit (SIGKILL after 3 s). */
  async close(): Promise<void> {
    this.flush();
    this.child.stdin.end();
    const timer = setTimeout(() => this.child.kill('SIGKILL'), 3_000);
    await this.exited;
    clearTimeout(timer);
  }

  private queue(line: string): void {
    this.outgoing.push(line);
    if (this.flushScheduled) return;
    this.flushScheduled = true;
    // After the promise continuations of this turn (every lane woken by one chunk), before I/O.
    process.nextTick(() => this.flush());
  }

  private flush(): void {
    this.flushScheduled = false;
    if (this.outgoing.length === 0) return;
    this.child.stdin.write(`${this.outgoing.join('\n')}\n`);
    this.outgoing.length = 0;
  }

  private receive(chunk: string): void {
    const lines = (this.carry + chunk).split('\n');
    this.carry = lines.pop()!;
    for (const line of lines) {
      if (!line) continue;
      const message = JSON.parse(line) as RpcMessage;
      if (message.id !== undefined && message.id !== null && message.method === undefined) {
        const waiter = this.waiting.get(message.id);
        this.waiting.delete(message.id);
        waiter?.resolve(message);
      } else {
        for (const listener of this.notificationListeners) listener(message);
      }
    }
  }
}
