/**
 * Line-delimited JSON-RPC framing over a pair of streams (stdin/stdout in production).
 *
 * Reading: splits raw chunks on '\n' without an intermediate readline layer; a line longer than
 * `maxLineBytes` is dropped and reported once, so one runaway client cannot exhaust memory.
 * Writing: lines queued in one event-loop turn go out in a single write.
 * Back-pressure: while the client is not reading (write() returned false), lines that arrive are
 * held, not dispatched, so no new answers pile up; input keeps being read up to `readAheadBytes`
 * and is paused beyond that, so nothing buffers unboundedly. Reading ahead is what lets the server
 * see EOF from a client that closed stdin without reading its answers: at EOF the held lines are
 * dispatched and the transport closes (the server then gives the output a grace period).
 */
import type { Readable, Writable } from 'node:stream';

/** What the transport hands each line to: the dispatcher (src/rpc/dispatcher.ts) in the server. */
export interface LineHandler {
  handleLine(line: string): void;
  /** A line over the size limit was dropped (once per line). */
  handleOversizedLine(): void;
}

export class StdioTransport {
  private readonly pending: string[] = [];
  private flushScheduled = false;
  private blocked = false;
  private carry: Buffer[] = [];
  private carryBytes = 0;
  private discarding = false;
  private closed = false;
  private outputClosed = false;
  /** Until the first line: a UTF-8 byte order mark before it (some Windows tools write one) is not part of it. */
  private atStart = true;
  /** Lines read while the output was blocked, waiting for 'drain'. */
  private held: string[] = [];
  private heldBytes = 0;
  private readonly drainWaiters: (() => void)[] = [];
  private handler!: LineHandler;
  private onClose!: () => void;

  /** Writing works at once (send); reading starts with `start`. */
  constructor(
    private readonly input: Readable,
    private readonly output: Writable,
    private readonly maxLineBytes = 4 * 1024 * 1024,
    private readonly readAheadBytes = 1024 * 1024,
  ) {}

  /**
   * Starts reading: every line goes to `handler`, in order; `onClose` runs once, after the last
   * line, when the input ends or the output is gone. (Made after the dispatcher, which writes to
   * this transport: neither needs a forward reference to the other.)
   */
  start(handler: LineHandler, onClose: () => void): this {
    this.handler = handler;
    this.onClose = onClose;
    const { input, output } = this;
    input.on('data', (chunk: Buffer) => this.receive(chunk));
    input.once('end', () => this.finishInput());
    input.once('close', () => this.finishInput());
    output.on('drain', () => this.onDrain());
    // A client that went away makes stdout error with EPIPE; that is a normal way to end.
    output.on('error', () => this.outputGone());
    return this;
  }

  /** Queues one JSON-RPC line; it is written with the others queued in this turn. */
  send(line: string): void {
    if (this.outputClosed) return;
    this.pending.push(line);
    if (!this.flushScheduled && !this.blocked) {
      this.flushScheduled = true;
      setImmediate(() => this.flush());
    }
  }

  /** Resolves once everything queued so far has been handed to the output stream. */
  async drained(): Promise<void> {
    if (this.pending.length === 0 && !this.blocked) return;
    await new Promise<void>((resolve) => this.drainWaiters.push(resolve));
  }

  private flush(): void {
    this.flushScheduled = false;
    if (this.blocked || this.pending.length === 0) return this.notifyDrained();
    const text = `${this.pending.join('\n')}\n`;
    this.pending.length = 0;
    if (!this.output.write(text)) {
      this.blocked = true;
      return;
    }
    this.notifyDrained();
  }

  private onDrain(): void {
    this.blocked = false;
    this.releaseHeld();
    if (!this.closed) this.input.resume();
    this.flush();
  }

  /** Dispatches the lines held while blocked, in the order they came. */
  private releaseHeld(): void {
    const lines = this.held;
    this.held = [];
    this.heldBytes = 0;
    for (const line of lines) this.handler.handleLine(line);
  }

  private notifyDrained(): void {
    if (this.pending.length > 0 || this.blocked) return;
    for (const resolve of this.drainWaiters.splice(0)) resolve();
  }

  private receive(chunk: Buffer): void {
    const last = chunk.lastIndexOf(0x0a);
    if (last < 0) return this.keep(chunk);
    if (this.carry.length === 0 && !this.discarding && last <= this.maxLineBytes) {
      // The common case, a chunk of whole lines none of which can be oversized: one decode and
      // one split for all of them. A '\n' byte never occurs inside a multi-byte character, so
      // decoding up to the last one cuts no character in two.
      // (Held lines count by characters here: at most their bytes, which is all a bound needs.)
      for (const line of chunk.toString('utf8', 0, last).split('\n')) this.deliver(line, line.length);
    } else {
      let start = 0;
      for (let newline = chunk.indexOf(0x0a); newline >= 0 && newline <= last; newline = chunk.indexOf(0x0a, start)) {
        this.emitLine(chunk.subarray(start, newline));
        start = newline + 1;
      }
    }
    if (last + 1 < chunk.length) this.keep(chunk.subarray(last + 1));
  }

  private keep(part: Buffer): void {
    if (this.discarding) return;
    this.carry.push(part);
    this.carryBytes += part.length;
    if (this.carryBytes > this.maxLineBytes) {
      this.carry = [];
      this.carryBytes = 0;
      this.discarding = true;
      this.handler.handleOversizedLine();
    }
  }

  private emitLine(tail: Buffer): void {
    if (this.discarding) {
      // The rest of an oversized line; it was already answered.
      this.discarding = false;
      return;
    }
    let bytes = tail;
    if (this.carry.length > 0) {
      this.carry.push(tail);
      bytes = Buffer.concat(this.carry, this.carryBytes + tail.length);
      this.carry = [];
      this.carryBytes = 0;
    }
    if (bytes.length > this.maxLineBytes) return this.handler.handleOversizedLine();
    this.deliver(bytes.toString('utf8'), bytes.length);
  }

  /** One whole line: dispatched, or held while the output is blocked (`size` counts toward the read-ahead bound). */
  private deliver(text: string, size: number): void {
    let line = text;
    if (this.atStart) {
      this.atStart = false;
      if (line.charCodeAt(0) === 0xfeff) line = line.slice(1);
    }
    if (line.trim() === '') return;
    if (!this.blocked || this.closed) return this.handler.handleLine(line);
    this.held.push(line);
    this.heldBytes += size;
    if (this.heldBytes > this.readAheadBytes) this.input.pause();
  }

  /** Nothing can be written any more: drop what is queued so `drained()` never waits for a 'drain' that cannot come. */
  private outputGone(): void {
    this.outputClosed = true;
    this.pending.length = 0;
    this.blocked = false;
    this.notifyDrained();
    this.finishInput();
  }

  private finishInput(): void {
    if (this.closed) return;
    this.closed = true;
    // Every line received is dispatched, in order; its answer waits for 'drain' (or the end of the grace period).
    this.releaseHeld();
    if (this.carryBytes > 0 && !this.discarding) this.emitLine(Buffer.alloc(0));
    this.onClose();
  }
}
