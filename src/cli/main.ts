#!/usr/bin/env node
/**
 * The command's entry, a launcher: in the package it is a file of its own (dist/bundle/main.js,
 * a few lines), and the rest of the program is in the files it imports (scripts/bundle.mjs).
 * Before the rest of the program loads:
 * - Node's compile cache is turned on where the runtime has one (22.1 and later; Node 20 has
 *   none), so every later start reads the code V8 compiled last time instead of compiling it.
 *   It holds only what is imported after this line, hence the launcher. The threads get it by
 *   NODE_COMPILE_CACHE, which a Worker reads from the environment it is given (a copy of
 *   process.env), so it is set here before any thread starts. The cache lives where Node puts it:
 *   $NODE_COMPILE_CACHE if the user set one, else <os.tmpdir()>/node-compile-cache, one folder per
 *   Node version, a file per module keyed by its path and checked against its contents;
 * - when the command's first step is a validation (serving MCP, `status`) and there is an
 *   auth.json to validate, the token service's first thread is started, so it boots on another
 *   core while this one loads the rest (see token-service-pool.ts). With no auth.json the main
 *   thread answers that validation itself (auth/nothing-stored.ts) and no thread is needed.
 * - `$CODEX_HOME/.env` is read into the environment, as Codex 0.171 does (codex-dotenv.ts),
 *   before any thread starts: threads take their copy of the environment when they start, and
 *   the token service's refresh and the login worker need a proxy set there.
 * Then the CLI (cli.ts).
 */
import { lstatSync } from 'node:fs';
import * as nodeModule from 'node:module';
import { join } from 'node:path';
import { codexHomeFromEnv } from '../config/codex-home-env.js';
import { loadCodexDotenv } from '../config/codex-dotenv.js';

const compileCache = nodeModule as {
  enableCompileCache?: () => { status: number; directory?: string };
  constants?: { compileCacheStatus?: { ENABLED: number } };
};
const cache = compileCache.enableCompileCache?.();
// Only a cache this line turned on (not one that failed, was disabled by NODE_DISABLE_COMPILE_CACHE
// or was already on through the user's NODE_COMPILE_CACHE, which the threads inherit anyway).
if (cache?.directory && cache.status === compileCache.constants?.compileCacheStatus?.ENABLED) process.env['NODE_COMPILE_CACHE'] = cache.directory;
loadCodexDotenv(codexHomeFromEnv());
if (startsWithValidation(process.argv.slice(2)) && authFileMayExist()) (await import('../auth/token-service-pool.js')).prestartTokenService();
await import('./cli.js');

/**
 * Whether these arguments run the MCP server (no command, `serve` or `mcp`) or `status`, with
 * any `-c` options around the command. Only a guess made early; cli.ts parses the arguments for
 * real (a wrong guess costs a thread that starts and goes).
 */
function startsWithValidation(args: string[]): boolean {
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    if (arg === '-c' || arg === '--config' || arg === '-p' || arg === '--profile') i++;
    else if (!arg.startsWith('-c') && !arg.startsWith('--config=') && !arg.startsWith('--profile=')) return arg === 'serve' || arg === 'mcp' || arg === 'status';
  }
  return true;
}

/**
 * Whether $CODEX_HOME/auth.json may be there (another guess: in keyring mode nothing need be in
 * the folder, and that validation then starts its thread when it runs).
 */
function authFileMayExist(): boolean {
  try {
    lstatSync(join(codexHomeFromEnv(), 'auth.json'));
    return true;
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    return code !== 'ENOENT' && code !== 'ENOTDIR';
  }
}
