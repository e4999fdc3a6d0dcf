import { readFileSync } from 'node:fs';

/** Set by the bundler (scripts/bundle.mjs) to package.json's name and version. */
declare const CODEX_AUTH_MCP_PACKAGE: { name: string; version: string } | undefined;

/** name and version from package.json: built in by the bundle, else read once (dist/src/server → the project root). */
export const packageInfo: { name: string; version: string } =
  typeof CODEX_AUTH_MCP_PACKAGE !== 'undefined'
    ? CODEX_AUTH_MCP_PACKAGE
    : JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8'));
