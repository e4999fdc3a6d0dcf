/**
 * `$CODEX_HOME/.env`, read at start-up as Codex 0.171 reads it (measured on the binary, see
 * test/codex-dotenv.test.ts): every variable in it is set in this process, over one the
 * environment already has, except any whose name starts with `CODEX_` in any case, which a .env
 * may not create or change. A missing or unreadable file is no .env. This is where a person puts
 * what an MCP client does not pass on (HTTPS_PROXY, NO_PROXY): Codex itself reads them there.
 *
 * Differs from 0.171 on purpose, where a Node process is not a Rust one:
 *  - `NODE_*` names are refused too: in our process they either come too late to matter (Node reads
 *    NODE_OPTIONS and NODE_EXTRA_CA_CERTS at start) or weaken it (NODE_TLS_REJECT_UNAUTHORIZED=0
 *    would turn off certificate checks on every issuer call);
 *  - the file is read under the rules of auth.json and config.toml: only a regular file (opened
 *    non-blocking, so a FIFO there cannot hold the start), and only in a private CODEX_HOME, from a
 *    file of this user that nobody else may change (docs/unsafe-codex-home.md): whoever can write
 *    it could point the sign-in at a proxy of theirs;
 *  - 0.171 (dotenvy) expands `${NAME}` inside values; dotenv's parser does not, so such a value is
 *    taken as written.
 * A file that is not read is named on stderr with the reason; nothing else stops the start.
 */
import { closeSync, constants, fstatSync, lstatSync, openSync, readFileSync, statSync, type Stats } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'dotenv';

/** What a .env may not set: 0.171's "ILLEGAL_ENV_VAR_PREFIX" (any case), and Node's own variables. */
const REFUSED_PREFIXES = ['CODEX_', 'NODE_'];

/** Why settings in a folder or file with this owner and mode cannot be trusted, or undefined. */
function untrusted(what: string, info: Stats): string | undefined {
  return ownedByAnother(what, info) ?? (info.mode & 0o022 ? `other users can write to ${what} (mode 0${(info.mode & 0o7777).toString(8)})` : undefined);
}

function ownedByAnother(what: string, info: Stats): string | undefined {
  const uid = process.getuid?.();
  return uid !== undefined && info.uid !== uid ? `${what} belongs to another user (uid ${info.uid})` : undefined;
}

/** The file's text, or undefined (nothing there, or a reason on stderr). */
function readTrustedDotenv(codexHome: string): Buffer | undefined {
  const file = join(codexHome, '.env');
  let fd: number;
  try {
    fd = openSync(file, constants.O_RDONLY | (constants.O_NONBLOCK ?? 0));
  } catch {
    return undefined;
  }
  try {
    const info = fstatSync(fd);
    const link = lstatSync(codexHome);
    const why = !info.isFile()
      ? 'it is not a regular file'
      : ((link.isSymbolicLink() ? ownedByAnother(`the symlink ${codexHome}`, link) : undefined) ??
        untrusted(codexHome, statSync(codexHome)) ??
        untrusted(file, info));
    if (why) {
      process.stderr.write(`codex-auth-mcp: warning: ${file} is not read: ${why}\n`);
      return undefined;
    }
    return readFileSync(fd);
  } catch {
    return undefined;
  } finally {
    closeSync(fd);
  }
}

export interface DotenvOutcome {
  /** The names set from the file. */
  readonly applied: string[];
  /** The names the file holds that were refused (CODEX_…, NODE_…). */
  readonly refused: string[];
}

export function loadCodexDotenv(codexHome: string, env: NodeJS.ProcessEnv = process.env): DotenvOutcome {
  const text = readTrustedDotenv(codexHome);
  if (text === undefined) return { applied: [], refused: [] };
  const applied: string[] = [];
  const refused: string[] = [];
  for (const [name, value] of Object.entries(parse(text))) {
    if (REFUSED_PREFIXES.some((prefix) => name.toUpperCase().startsWith(prefix))) refused.push(name);
    else {
      env[name] = value;
      applied.push(name);
    }
  }
  return { applied, refused };
}
