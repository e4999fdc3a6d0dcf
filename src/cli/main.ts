#!/usr/bin/env node
/**
 * The command's entry. It turns on Node's compile cache where the runtime has one (22.1 and
 * later; Node 20 has none) before the rest of the program loads, so every later start skips
 * compiling it: compiling is most of what a start costs above bare Node. Then the CLI (cli.ts).
 */
import * as nodeModule from 'node:module';

(nodeModule as { enableCompileCache?: () => unknown }).enableCompileCache?.();
await import('./cli.js');
