/** The MCP lifecycle and discovery methods (revision 2025-06-18, answering older clients in kind). */
import { z } from 'zod';
import { invalidRequest } from '../protocol/jsonrpc.js';
import { method, type MethodSpec } from '../rpc/dispatcher.js';
import { packageInfo } from './package-info.js';

export const SUPPORTED_PROTOCOL_VERSIONS = ['2025-06-18', '2025-03-26', '2024-11-05'] as const;
export const LATEST_PROTOCOL_VERSION = SUPPORTED_PROTOCOL_VERSIONS[0];

const InitializeParamsSchema = z.looseObject({
  protocolVersion: z.string().optional(),
  capabilities: z.looseObject({}).optional(),
  clientInfo: z.looseObject({ name: z.string().optional(), version: z.string().optional() }).optional(),
});

const ListParamsSchema = z.looseObject({ cursor: z.string().optional() });

export interface McpSession {
  initialized: boolean;
  clientName?: string;
}

export function mcpMethods(session: McpSession, tools: () => unknown[]): Record<string, MethodSpec> {
  return {
    initialize: method(InitializeParamsSchema, (params) => {
      if (session.initialized) throw invalidRequest('initialize called more than once');
      session.initialized = true;
      if (params.clientInfo?.name) session.clientName = params.clientInfo.name;
      const requested = params.protocolVersion;
      const protocolVersion = SUPPORTED_PROTOCOL_VERSIONS.find((v) => v === requested) ?? LATEST_PROTOCOL_VERSION;
      return {
        protocolVersion,
        capabilities: { tools: { listChanged: false } },
        serverInfo: { name: packageInfo.name, title: 'Codex Auth', version: packageInfo.version },
      };
    }),
    ping: method(z.unknown(), () => ({})),
    'tools/list': method(ListParamsSchema, () => ({ tools: tools() })),
    'resources/list': method(ListParamsSchema, () => ({ resources: [] })),
    'resources/templates/list': method(ListParamsSchema, () => ({ resourceTemplates: [] })),
    'prompts/list': method(ListParamsSchema, () => ({ prompts: [] })),
  };
}
