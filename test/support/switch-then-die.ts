/**
 * A switch that dies by SIGKILL at one of its writes, for the crash test of several accounts: the
 * token service's own switch (from dist) runs here, and the `killAt`-th rename (each write of
 * auth.json or the account store ends with one) is replaced by SIGKILL, so that write and every
 * later one never happen. argv: CODEX_HOME, issuer URL, session id, workspace id, killAt.
 */
import { createRequire, syncBuiltinESMExports } from 'node:module';

const [codexHome, issuer, sessionId, accountId, killAtText] = process.argv.slice(2) as [string, string, string, string, string];
const killAt = Number(killAtText);
const fsPromises = createRequire(import.meta.url)('node:fs/promises') as typeof import('node:fs/promises');
const rename = fsPromises.rename;
let renames = 0;
fsPromises.rename = ((from: string, to: string) => {
  if (++renames === killAt) process.kill(process.pid, 'SIGKILL');
  return rename(from, to);
}) as typeof rename;
syncBuiltinESMExports();

const { runSwitchSession } = await import('../../workers/token-service/session-tasks.js');
const outcome = await runSwitchSession({ store: { codexHome, mode: 'file' }, issuer, sessionId, accountId });
process.stdout.write(`${JSON.stringify({ ok: outcome.ok, renames })}\n`);
