/**
 * `$CODEX_HOME/.env`, read at start-up as Codex 0.171 reads it (measured on the binary, see
 * test/codex-dotenv.test.ts): every variable in it is set in this process, over one the
 * environment already has, except any whose name starts with `CODEX_` in any case, which a .env
 * may not create or change. A missing or unreadable file is no .env. This is where a person puts
 * what an MCP client does not pass on (HTTPS_PROXY, NO_PROXY): Codex itself reads them there.
 *
 * Differs from 0.171 in one point: 0.171 (dotenvy) expands `${NAME}` inside values; dotenv's
 * parser does not, so such a value is taken as written.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'dotenv';

/** What a .env may not set (0.171: "ILLEGAL_ENV_VAR_PREFIX", compared case-insensitively). */
const REFUSED_PREFIX = 'CODEX_';

export interface DotenvOutcome {
  /** The names set from the file. */
  readonly applied: string[];
  /** The names the file holds that were refused (CODEX_…). */
  readonly refused: string[];
}

export function loadCodexDotenv(codexHome: string, env: NodeJS.ProcessEnv = process.env): DotenvOutcome {
  let text: Buffer;
  try {
    text = readFileSync(join(codexHome, '.env'));
  } catch {
    return { applied: [], refused: [] };
  }
  const applied: string[] = [];
  const refused: string[] = [];
  for (const [name, value] of Object.entries(parse(text))) {
    if (name.toUpperCase().startsWith(REFUSED_PREFIX)) refused.push(name);
    else {
      env[name] = value;
      applied.push(name);
    }
  }
  return { applied, refused };
}
