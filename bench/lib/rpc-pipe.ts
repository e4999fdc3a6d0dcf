/**
 * A minimal JSON-RPC client over a child's stdio for benchmarks: sends requests, matches answers
 * by id, and records each latency (microseconds) in an HDR histogram.
 */
import type { ChildProcessWithoutNullStreams } from 'node:child_process';
import hdr from 'hdr-histogram-js';

export type Histogram = ReturnType<typeof hdr.build>;
export const newHistogram = (): Histogram => hdr.build({ lowestDiscernibleValue: 1, highestTrackableValue: 60_000_000, numberOfSignificantValueDigits: 3 });

export class RpcPipe {
  private readonly waiting = new Map<number | string, (message: any) => void>();
  private readonly notificationListeners: ((message: any) => void)[] = [];
  private carry = '';
  private nextId = 1;

  constructor(readonly child: ChildProcessWithoutNullStreams) {
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (chunk: string) => this.receive(chunk));
    child.stderr.resume();
    child.stdin.on('error', () => undefined);
  }

  request(method: string, params: unknown = {}): Promise<any> {
    const id = this.nextId++;
    const answered = new Promise<any>((resolve) => this.waiting.set(id, resolve));
    this.child.stdin.write(`${JSON.stringify({ jsonrpc: '2.0', id, method, params })}\n`);
    return answered;
  }

  onNotification(listener: (message: any) => void): void {
    this.notificationListeners.push(listener);
  }

  /** Sends `total` requests keeping `inFlight` outstanding; returns requests/s and the latency histogram. */
  async load(method: string, params: unknown, total: number, inFlight: number): Promise<{ perSecond: number; histogram: Histogram }> {
    const histogram = newHistogram();
    let sent = 0;
    const started = process.hrtime.bigint();
    const lane = async () => {
      while (sent < total) {
        sent++;
        const t0 = process.hrtime.bigint();
        await this.request(method, params);
        histogram.recordValue(Number((process.hrtime.bigint() - t0) / 1000n));
      }
    };
    await Promise.all(Array.from({ length: inFlight }, lane));
    const seconds = Number(process.hrtime.bigint() - started) / 1e9;
    return { perSecond: total / seconds, histogram };
  }

  async close(): Promise<void> {
    this.child.stdin.end();
    const exited = new Promise((resolve) => this.child.once('exit', resolve));
    const timer = setTimeout(() => this.child.kill('SIGKILL'), 3_000);
    await exited;
    clearTimeout(timer);
  }

  private receive(chunk: string): void {
    const lines = (this.carry + chunk).split('\n');
    this.carry = lines.pop()!;
    for (const line of lines) {
      if (!line) continue;
      const message = JSON.parse(line);
      if (message.id !== undefined && message.method === undefined) {
        const resolve = this.waiting.get(message.id);
        this.waiting.delete(message.id);
        resolve?.(message);
      } else {
        for (const listener of this.notificationListeners) listener(message);
      }
    }
  }
}
