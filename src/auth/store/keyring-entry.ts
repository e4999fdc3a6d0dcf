/**
 * The OS keyring entry that holds the credential record, under the key the original uses
 * (service "Codex Auth", account `cli|` + the first 16 hex characters of the SHA-256 of the
 * canonical CODEX_HOME), so both read the same entry.
 *
 * Every call runs in a helper process (workers/keyring/main.ts, managed by keyring-helpers.ts)
 * with a timeout: a locked or absent secret service never hangs the server, and a call stuck in
 * native code is killed rather than left behind (a stuck thread would keep the server from ever
 * exiting). Nothing here throws: each call answers `{ok: true, …}` or `{ok: false, message}`.
 * Runs on every thread that reads or writes credentials (main, login worker, token service); each
 * only talks to its helpers and waits for their lines.
 */
import { createHash } from 'node:crypto';
import { realpathSync } from 'node:fs';
import { resolve } from 'node:path';
import type { KeyringReply, KeyringRequest } from '../../protocol/keyring.js';
import { runInHelper } from './keyring-helpers.js';

export const KEYRING_SERVICE = 'Codex Auth';
/** How long one keyring call may take once it has started (gh uses the same 3 s). */
export const KEYRING_TIMEOUT_MS = 3_000;

export function keyringAccount(codexHome: string): string {
  let canonical: string;
  try {
    canonical = realpathSync(codexHome);
  } catch {
    canonical = resolve(codexHome);
  }
  return `cli|${createHash('sha256').update(canonical).digest('hex').slice(0, 16)}`;
}

/** One keyring call in a helper process (keyring-helpers.ts); resolves (never rejects) within start + `timeoutMs`. */
export function callKeyring(request: KeyringRequest, timeoutMs = KEYRING_TIMEOUT_MS): Promise<KeyringReply> {
  return runInHelper(request, timeoutMs);
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
