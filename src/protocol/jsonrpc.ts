import * as z from './zod.js';

/** JSON-RPC 2.0 error codes this server answers with. */
export const ErrorCode = {
  ParseError: -32700,
  InvalidRequest: -32600,
  MethodNotFound: -32601,
  InvalidParams: -32602,
  InternalError: -32603,
  /** MCP 2025-11-25 and earlier: resources/read of an unknown URI (the modern era uses -32602). */
  ResourceNotFound: -32002,
  /**
   * MCP 2026-07-28. -32020 (HeaderMismatch) is defined too, but only for HTTP headers; stdio has
   * none, so this server never sends it.
   */
  MissingRequiredClientCapability: -32021,
  UnsupportedProtocolVersion: -32022,
} as const;

/** Ids are strings or integers (as codex's `RequestId`); a float or object id is not a valid request. */
export const RequestIdSchema = z.union([z.string(), z.int()]);
export type RequestId = z.infer<typeof RequestIdSchema>;

export const ErrorObjectSchema = z.object({
  code: z.int(),
  message: z.string(),
  data: z.optional(z.unknown()),
});
export type ErrorObject = z.infer<typeof ErrorObjectSchema>;

/** An error a handler throws on purpose; anything else thrown becomes -32603. */
export class RpcError extends Error {
  constructor(
    readonly code: number,
    message: string,
    readonly data?: unknown,
  ) {
    super(message);
    this.name = 'RpcError';
  }
}

export const invalidRequest = (message: string) => new RpcError(ErrorCode.InvalidRequest, message);
export const internalError = (message: string) => new RpcError(ErrorCode.InternalError, message);

/** Serialisers for the outgoing shapes the server sends unasked; one JSON object per line (responses: src/rpc/dispatcher.ts). */
export const encodeNotification = (method: string, params: unknown): string =>
  JSON.stringify({ jsonrpc: '2.0', method, params });

export const encodeRequest = (id: RequestId, method: string, params: unknown): string =>
  JSON.stringify({ jsonrpc: '2.0', id, method, params });
