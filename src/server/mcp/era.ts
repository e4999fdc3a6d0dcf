/**
 * The facts of the two MCP eras this server speaks: the revisions of each, who we say we are, and
 * the error of a missing client capability. Which era a request belongs to is decided once, by
 * the method pipeline (method-pipeline.ts), and carried on the request (`request.modern`); which
 * methods each era serves, and their caching hints, are in the wire table (src/protocol/methods.ts).
 *
 * - Modern (2026-07-28): the request names its protocol version and client capabilities in
 *   `params._meta`; it is checked on its own (no handshake) and its result carries `resultType`,
 *   our serverInfo in `_meta`, and the caching hints of its method.
 * - Initialize era (2024-11-05 .. 2025-11-25) and codex's own clients: no version in `_meta`; the
 *   result goes out exactly as the handler wrote it. The first such request shows a legacy or
 *   codex client is on the line, which opens the unsolicited codex notifications (on the connection, see connection.ts).
 */
import { ErrorCode, RpcError } from '../../protocol/jsonrpc.js';
import type { ClientCapabilities } from '../../protocol/mcp-wire.js';
import { packageInfo } from '../package-info.js';

export type { ModernRequest } from '../../protocol/mcp-wire.js';

/** Revisions served statelessly, newest first. */
export const MODERN_PROTOCOL_VERSIONS = ['2026-07-28'] as const;
/** Revisions negotiated by `initialize`, newest first (the first is the default). */
export const LEGACY_PROTOCOL_VERSIONS = ['2025-11-25', '2025-06-18', '2025-03-26', '2024-11-05'] as const;

/** -32021: the request needs a client capability it did not declare. */
export const missingCapability = (requiredCapabilities: ClientCapabilities) =>
  new RpcError(ErrorCode.MissingRequiredClientCapability, 'Missing required client capability', { requiredCapabilities });

export const serverInfo = { name: packageInfo.name, title: 'Codex Auth', version: packageInfo.version };
