/**
 * The OS keyring entry that holds the credential record, under the key the original uses
 * (service "Codex Auth", account `cli|` + the first 16 hex characters of the SHA-256 of the
 * canonical CODEX_HOME), so both read the same entry.
 *
 * Every call runs in its own short-lived process (workers/keyring/main.ts) with a timeout: a
 * locked or absent secret service never hangs the server, and a call stuck in native code is
 * killed rather than left behind (a stuck thread would keep the server from ever exiting).
 * Nothing here throws: each call answers `{ok: true, …}` or `{ok: false, message}`.
 * Runs on every thread that reads or writes credentials (main, login worker, token service); each
 * only spawns the helper and waits for its line.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { realpathSync } from 'node:fs';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { KeyringMessageSchema, type KeyringReply, type KeyringRequest } from '../../protocol/keyring.js';
import { workerFile } from '../../worker-files.js';

export const KEYRING_SERVICE = 'Codex Auth';
/** How long one keyring call may take once it has started (gh uses the same 3 s). */
export const KEYRING_TIMEOUT_MS = 3_000;
/** How long the helper process may take to start and load the binding (generous: a busy machine). */
const START_TIMEOUT_MS = 20_000;
/** Test hook: a module exporting an `AsyncEntry` class with the @napi-rs/keyring API (e.g. a fake that hangs). */
export const KEYRING_MODULE_ENV = 'CODEX_AUTH_MCP_KEYRING_MODULE';

const HELPER = fileURLToPath(workerFile('keyring'));

export function keyringAccount(codexHome: string): string {
  let canonical: string;
  try {
    canonical = realpathSync(codexHome);
  } catch {
    canonical = resolve(codexHome);
  }
  return `cli|${createHash('sha256').update(canonical).digest('hex').slice(0, 16)}`;
}

/** One keyring call in a helper process; resolves (never rejects) within start + `timeoutMs`. */
export function callKeyring(request: Omit<KeyringRequest, 'module'>, timeoutMs = KEYRING_TIMEOUT_MS): Promise<KeyringReply> {
  const module = process.env[KEYRING_MODULE_ENV];
  return new Promise((done) => {
    let child: ChildProcess;
    try {
      // stdin stays open until we have the answer: its end tells the helper we are gone.
      child = spawn(process.execPath, [HELPER], { stdio: ['pipe', 'pipe', 'ignore'], windowsHide: true });
    } catch (error) {
      done({ ok: false, message: `cannot start the keyring helper (${(error as Error).message})` });
      return;
    }
    let settled = false;
    let buffer = '';
    let timer = setTimeout(() => finish({ ok: false, message: 'the keyring helper did not start in time' }), START_TIMEOUT_MS);
    const finish = (reply: KeyringReply) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      child.stdout?.removeAllListeners('data');
      if (!reply.ok) child.kill('SIGKILL');
      child.stdin?.end();
      done(reply);
    };
    // Before anything else: a spawn that fails (EMFILE) reports it as an 'error' event, which
    // unheard would end the process; it may come more than once (a kill of a child that never ran).
    child.on('error', (error) => finish({ ok: false, message: `cannot run the keyring helper (${error.message})` }));
    // A spawn that could not make its pipes has none; its 'error' event ends the call.
    if (!child.stdin || !child.stdout) return;
    child.stdin.on('error', () => undefined);
    child.stdin.write(`${JSON.stringify({ ...request, ...(module && { module }) } satisfies KeyringRequest)}\n`);
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (chunk: string) => {
      buffer += chunk;
      for (let newline = buffer.indexOf('\n'); newline >= 0; newline = buffer.indexOf('\n')) {
        const line = buffer.slice(0, newline);
        buffer = buffer.slice(newline + 1);
        let parsed;
        try {
          parsed = KeyringMessageSchema.safeParse(JSON.parse(line));
        } catch {
          parsed = undefined;
        }
        if (!parsed?.success) return finish({ ok: false, message: 'the keyring helper gave an unexpected answer' });
        if ('started' in parsed.data) {
          clearTimeout(timer);
          timer = setTimeout(() => finish({ ok: false, message: `the OS keyring did not answer within ${timeoutMs / 1000} s` }), timeoutMs);
        } else return finish(parsed.data);
      }
    });
    // 'close' comes after the helper's output has all been read.
    child.once('close', (code, signal) => finish({ ok: false, message: `the keyring helper ended without an answer (${signal ?? `exit code ${code}`})` }));
  });
}

/** The entry for one CODEX_HOME. */
export function keyringEntry(codexHome: string) {
  const key = { service: KEYRING_SERVICE, account: keyringAccount(codexHome) };
  return {
    get: () => callKeyring({ ...key, op: 'get' }),
    set: (value: string) => callKeyring({ ...key, op: 'set', value }),
    remove: () => callKeyring({ ...key, op: 'delete' }),
  };
}
export type KeyringEntry = ReturnType<typeof keyringEntry>;
