/**
 * Where a signed-out answer looked for credentials, and what to do about it. MCP clients start
 * servers with a few variables only (the SDKs pass HOME, LOGNAME, PATH, SHELL, TERM, USER; Codex
 * 0.171 passes HOME LANG PATH SHELL TERM), so a person's CODEX_HOME usually does not arrive and
 * the server reads ~/.codex: "Signed out" alone would leave them guessing. Every signed-out
 * answer names the folder and how it was chosen, with the one-line fix for the client's config.
 */
import type { CodexHomeSource } from '../config/codex-home-env.js';

export interface CodexHomeReport {
  /** The CODEX_HOME read (absolute). */
  path: string;
  /** `env`: CODEX_HOME in this server's environment; `default`: not set, so ~/.codex. */
  source: CodexHomeSource;
}

/** What to add to an MCP client's entry for this server so it reads another CODEX_HOME. */
export const CLIENT_ENV_FIX = '"env": {"CODEX_HOME": "/path/to/.codex"}';
/** The same for Codex's own config.toml, `[mcp_servers.<name>]`. */
export const CODEX_CONFIG_FIX = 'env_vars = ["CODEX_HOME"]';

/** How a person signs in, said in an MCP client's answer. */
const SIGN_IN_FROM_A_CLIENT = 'call the login tool, or run `codex-auth-mcp login` in a terminal';

export const codexHomeReport = (path: string, source: CodexHomeSource): CodexHomeReport => ({ path, source });

/** One sentence: where we looked and why there. */
export function whereWeLooked({ path, source }: CodexHomeReport, from: 'client' | 'terminal'): string {
  const environment = from === 'client' ? "this server's environment" : 'the environment';
  return source === 'env'
    ? `Looked for credentials in ${path} (CODEX_HOME from ${environment}).`
    : `Looked for credentials in ${path} (the default ~/.codex: CODEX_HOME is not set in ${environment}).`;
}

/**
 * What a person can do: pass the right CODEX_HOME (most MCP clients do not pass the environment),
 * or sign in. `from`: where the answer is read, an MCP client's tool or resource, or a terminal.
 */
export function signedOutAdvice(report: CodexHomeReport, from: 'client' | 'terminal'): string {
  if (from === 'terminal') {
    const other = 'If you signed in with another CODEX_HOME, name it: CODEX_HOME=/path/to/.codex codex-auth-mcp status';
    return `${whereWeLooked(report, from)}\n${other}\nTo sign in: codex-auth-mcp login`;
  }
  const other =
    report.source === 'default'
      ? `If you signed in with another CODEX_HOME, pass it to this server: add ${CLIENT_ENV_FIX} to its entry in your MCP client's config (in Codex's config.toml: ${CODEX_CONFIG_FIX} or env = { CODEX_HOME = "…" }).`
      : `If you signed in with another CODEX_HOME, set that one in this server's "env" in your MCP client's config.`;
  return `${whereWeLooked(report, from)} ${other} To sign in: ${SIGN_IN_FROM_A_CLIENT}.`;
}
