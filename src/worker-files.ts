/**
 * Where each thread's entry file is. Built by tsc, each is dist/workers/<name>/main.js. In the
 * bundle the package ships (scripts/bundle.mjs), every thread's entry is one file beside the
 * main one in dist/bundle/, and the bundler defines CODEX_AUTH_MCP_BUNDLED so this says so.
 * Kept in one module at one depth so the relative URLs hold in both layouts.
 */
declare const CODEX_AUTH_MCP_BUNDLED: boolean | undefined;

export type WorkerName = 'token-service' | 'login' | 'keyring';

const bundled = typeof CODEX_AUTH_MCP_BUNDLED !== 'undefined' && CODEX_AUTH_MCP_BUNDLED;

export function workerFile(name: WorkerName): URL {
  return bundled ? new URL(`./${name}.js`, import.meta.url) : new URL(`../workers/${name}/main.js`, import.meta.url);
}
