/**
 * The MCP lifecycle and discovery methods of both eras: `initialize` and `ping` (2024-11-05 ..
 * 2025-11-25), `server/discover` (2026-07-28), and the lists both eras share.
 */
import { invalidRequest } from '../../protocol/jsonrpc.js';
import type { ToolsListResult } from '../../protocol/mcp-wire.js';
import type { Connection } from '../connection.js';
import type { ServerHandlers } from '../context.js';
import { LEGACY_PROTOCOL_VERSIONS, MODERN_PROTOCOL_VERSIONS, serverInfo } from '../mcp/era.js';

export const SUPPORTED_PROTOCOL_VERSIONS = LEGACY_PROTOCOL_VERSIONS;
export const LATEST_PROTOCOL_VERSION = LEGACY_PROTOCOL_VERSIONS[0];

/**
 * Both eras: tools (a fixed list), the status resource (subscribable), and the server's log lines
 * (mcp/client-logs.ts: logging/setLevel in the initialize era, `_meta` logLevel in 2026-07-28).
 */
const CAPABILITIES = { tools: { listChanged: false }, resources: { subscribe: true, listChanged: false }, logging: {} };

const INSTRUCTIONS =
  'Signs this machine in to OpenAI / ChatGPT for Codex. auth_status tells whether you are signed in; login signs in (the person opens a page); logout signs out.';

type McpMethod = 'initialize' | 'ping' | 'server/discover' | 'tools/list' | 'resources/templates/list' | 'prompts/list';

export function mcpMethods(connection: Connection, tools: () => ToolsListResult['tools']): ServerHandlers<McpMethod> {
  return {
    initialize: (params) => {
      const requested = params.protocolVersion;
      const protocolVersion = LEGACY_PROTOCOL_VERSIONS.find((v) => v === requested) ?? LATEST_PROTOCOL_VERSION;
      if (!connection.initialize({ protocolVersion, capabilities: params.capabilities ?? {} })) throw invalidRequest('initialize called more than once');
      return { protocolVersion, capabilities: CAPABILITIES, serverInfo };
    },
    ping: () => ({}),
    'server/discover': () => ({ supportedVersions: [...MODERN_PROTOCOL_VERSIONS], capabilities: CAPABILITIES, instructions: INSTRUCTIONS }),
    'tools/list': () => ({ tools: tools() }),
    'resources/templates/list': () => ({ resourceTemplates: [] }),
    'prompts/list': () => ({ prompts: [] }),
  };
}
