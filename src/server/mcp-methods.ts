/** The MCP lifecycle and discovery methods (revision 2025-06-18, answering older clients in kind). */
import { invalidRequest } from '../protocol/jsonrpc.js';
import type { ToolsListResult } from '../protocol/mcp-wire.js';
import type { ServerHandlers } from './context.js';
import { packageInfo } from './package-info.js';

export const SUPPORTED_PROTOCOL_VERSIONS = ['2025-06-18', '2025-03-26', '2024-11-05'] as const;
export const LATEST_PROTOCOL_VERSION = SUPPORTED_PROTOCOL_VERSIONS[0];

export interface McpSession {
  initialized: boolean;
}

type McpMethod = 'initialize' | 'ping' | 'tools/list' | 'resources/list' | 'resources/templates/list' | 'prompts/list';

export function mcpMethods(session: McpSession, tools: () => ToolsListResult['tools']): ServerHandlers<McpMethod> {
  return {
    initialize: (params) => {
      if (session.initialized) throw invalidRequest('initialize called more than once');
      session.initialized = true;
      const requested = params.protocolVersion;
      const protocolVersion = SUPPORTED_PROTOCOL_VERSIONS.find((v) => v === requested) ?? LATEST_PROTOCOL_VERSION;
      return {
        protocolVersion,
        capabilities: { tools: { listChanged: false } },
        serverInfo: { name: packageInfo.name, title: 'Codex Auth', version: packageInfo.version },
      };
    },
    ping: () => ({}),
    'tools/list': () => ({ tools: tools() }),
    'resources/list': () => ({ resources: [] }),
    'resources/templates/list': () => ({ resourceTemplates: [] }),
    'prompts/list': () => ({ prompts: [] }),
  };
}
