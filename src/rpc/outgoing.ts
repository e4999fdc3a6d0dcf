/**
 * Requests this server sends to the client (only `elicitation/create`, only to an initialize-era
 * client) and the matching of the client's responses to them. Our ids are strings of their own
 * ("s1", "s2", …) so they can never be taken for an id the client chose.
 */
import type * as z from '../protocol/zod.js';
import { encodeRequest, RpcError, type RequestId } from '../protocol/jsonrpc.js';
import type { MethodEntry } from '../protocol/methods.js';

interface Waiting {
  resolve(result: unknown): void;
  reject(error: Error): void;
  schema: z.ZodMiniType;
}

export class OutgoingRequests<T extends Record<string, MethodEntry>> {
  private next = 1;
  private readonly waiting = new Map<RequestId, Waiting>();

  constructor(
    private readonly table: T,
    private readonly send: (line: string) => void,
  ) {}

  /** Sends one request; resolves with the client's result (checked against the table), rejects on its error or `signal`. */
  request<M extends keyof T & string>(method: M, params: z.input<T[M]['params']>, signal?: AbortSignal): Promise<z.infer<T[M]['result']>> {
    const id = `s${this.next++}`;
    return new Promise((resolve, reject) => {
      const abort = () => {
        this.waiting.delete(id);
        reject(signal!.reason instanceof Error ? signal!.reason : new Error('aborted'));
      };
      if (signal?.aborted) return abort();
      signal?.addEventListener('abort', abort, { once: true });
      const done = () => signal?.removeEventListener('abort', abort);
      this.waiting.set(id, {
        schema: this.table[method]!.result,
        resolve: (result) => (done(), resolve(result as z.infer<T[M]['result']>)),
        reject: (error) => (done(), reject(error)),
      });
      this.send(encodeRequest(id, method, params));
    });
  }

  /** A response from the client; one to no request of ours is dropped. */
  settle(message: { id: RequestId; result?: unknown; error?: unknown }): void {
    const waiting = this.waiting.get(message.id);
    if (!waiting) return;
    this.waiting.delete(message.id);
    if ('error' in message && message.error !== undefined) {
      const { code, message: text } = (message.error ?? {}) as { code?: unknown; message?: unknown };
      return waiting.reject(new RpcError(typeof code === 'number' ? code : -32603, typeof text === 'string' ? text : 'error from the client'));
    }
    const parsed = waiting.schema.safeParse(message.result);
    if (parsed.success) waiting.resolve(parsed.data);
    else waiting.reject(new Error(`the client's answer is malformed: ${parsed.error.issues[0]?.message ?? 'invalid'}`));
  }

  /** Every request still waiting fails (the server is shutting down). */
  rejectAll(reason: Error): void {
    for (const waiting of this.waiting.values()) waiting.reject(reason);
    this.waiting.clear();
  }
}
