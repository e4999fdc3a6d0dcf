#!/usr/bin/env node
/**
 * The command's entry. Before the rest of the program loads:
 * - Node's compile cache is turned on where the runtime has one (22.1 and later; Node 20 has
 *   none), so every later start skips compiling: compiling is much of what a start costs;
 * - when the command's first step is a validation (serving MCP, `status`), the token service's
 *   first thread is started, so it boots on another core while this one loads the rest (see
 *   token-service-pool.ts).
 * Then the CLI (cli.ts).
 */
import * as nodeModule from 'node:module';

(nodeModule as { enableCompileCache?: () => unknown }).enableCompileCache?.();
if (startsWithValidation(process.argv.slice(2))) (await import('../auth/token-service-pool.js')).prestartTokenService();
await import('./cli.js');

/**
 * Whether these arguments run the MCP server (no command, `serve` or `mcp`) or `status`, with
 * any `-c` options around the command. Only a guess made early; cli.ts parses the arguments for
 * real (a wrong guess costs a thread that starts and goes).
 */
function startsWithValidation(args: string[]): boolean {
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    if (arg === '-c' || arg === '--config') i++;
    else if (!arg.startsWith('-c') && !arg.startsWith('--config=')) return arg === 'serve' || arg === 'mcp' || arg === 'status';
  }
  return true;
}
