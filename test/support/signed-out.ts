/**
 * What a signed-out answer says, so the tests that check a whole answer name where it looked
 * (src/server/where-we-looked.ts): the CLI's `status` on a terminal or a pipe, and the
 * auth_status tool's text, for a CODEX_HOME given in the environment (as the test helpers give it).
 */
export const signedOutStatusText = (codexHome: string) =>
  `Signed out.\nLooked for credentials in ${codexHome} (CODEX_HOME from the environment).\n` +
  'If you signed in with another CODEX_HOME, name it: CODEX_HOME=/path/to/.codex codex-auth-mcp status\nTo sign in: codex-auth-mcp login\n';

export const signedOutToolText = (codexHome: string) =>
  `Signed out. Looked for credentials in ${codexHome} (CODEX_HOME from this server's environment). ` +
  `If you signed in with another CODEX_HOME, set that one in this server's "env" in your MCP client's config. ` +
  'To sign in: call the login tool, or run `codex-auth-mcp login` in a terminal.';
