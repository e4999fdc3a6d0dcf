/**
 * The MCP lifecycle, discovery and tool-call messages this server answers (revision 2025-06-18,
 * answering older clients in kind). Each schema is the single definition of its type.
 */
import { z } from 'zod';

export const InitializeParamsSchema = z.looseObject({
  protocolVersion: z.string().optional(),
  capabilities: z.looseObject({}).optional(),
  clientInfo: z.looseObject({ name: z.string().optional(), version: z.string().optional() }).optional(),
});

export const InitializeResultSchema = z.object({
  protocolVersion: z.string(),
  capabilities: z.object({ tools: z.object({ listChanged: z.boolean() }) }),
  serverInfo: z.object({ name: z.string(), title: z.string(), version: z.string() }),
});
export type InitializeResult = z.infer<typeof InitializeResultSchema>;

export const ListParamsSchema = z.looseObject({ cursor: z.string().optional() });

export const ToolSchema = z.object({
  name: z.string(),
  title: z.string(),
  description: z.string(),
  inputSchema: z.record(z.string(), z.unknown()),
});
export const ToolsListResultSchema = z.object({ tools: z.array(ToolSchema) });
export type ToolsListResult = z.infer<typeof ToolsListResultSchema>;

export const ToolCallParamsSchema = z.object({ name: z.string(), arguments: z.record(z.string(), z.unknown()).optional() });
export const ToolResultSchema = z.object({
  content: z.array(z.object({ type: z.literal('text'), text: z.string() })),
  structuredContent: z.record(z.string(), z.unknown()).optional(),
  isError: z.boolean().optional(),
});
export type ToolResult = z.infer<typeof ToolResultSchema>;

/** This server offers no resources or prompts; it answers the lists (empty) rather than dropping them. */
export const ResourcesListResultSchema = z.object({ resources: z.array(z.never()) });
export const ResourceTemplatesListResultSchema = z.object({ resourceTemplates: z.array(z.never()) });
export const PromptsListResultSchema = z.object({ prompts: z.array(z.never()) });

/** `{}`: ping, and methods whose result carries nothing. */
export const EmptyResultSchema = z.object({});
export type EmptyResult = z.infer<typeof EmptyResultSchema>;

/** Params nobody reads (ping): anything is accepted. */
export const AnyParamsSchema = z.unknown();
