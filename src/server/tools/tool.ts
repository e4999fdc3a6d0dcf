/**
 * What an MCP tool is (index.ts lists them): its name, texts, argument schema, hints, what it
 * touches (for the order of one client's answers) and how it runs.
 */
import type * as z from '../../protocol/zod.js';
import type { InputRequiredResult, ToolResult } from '../../protocol/mcp-wire.js';
import type { Access } from '../../protocol/methods.js';
import type { ServerContext } from '../context.js';
import type { LoginCall } from './login.js';
import type { After } from '../actions/sign-in.js';

/** What one tools/call brings besides its arguments. */
export interface ToolCall {
  readonly context: ServerContext;
  readonly after: After;
  /** The interactive sign-in with everything it needs to know about this call's era. */
  readonly login: (method: LoginCall['method']) => Promise<ToolResult | InputRequiredResult>;
}

export interface Tool<S extends z.ZodMiniType> {
  readonly name: string;
  readonly title: string;
  readonly description: string;
  readonly args: S;
  /** Hints for the client (2025-03-26 onward); none of them is a promise it may rely on for safety. */
  readonly annotations: { readOnlyHint: boolean; destructiveHint?: boolean; idempotentHint?: boolean; openWorldHint: boolean };
  /** What a call reads or changes, from its raw arguments (they are checked later, in the order the call runs). */
  readonly access: (args: Record<string, unknown> | undefined) => Access | undefined;
  run(args: z.infer<S>, call: ToolCall): Promise<ToolResult | InputRequiredResult>;
}

/** A tool, typed by its argument schema; listed as `Tool<z.ZodMiniType>`. */
export const tool = <S extends z.ZodMiniType>(definition: Tool<S>): Tool<z.ZodMiniType> => definition;
