/**
 * Credentials in the OS keyring, under the key the original uses (service "Codex Auth", account
 * `cli|` + the first 16 hex characters of the SHA-256 of the canonical CODEX_HOME), so both read
 * the same entry. Every call runs in a throwaway thread with a timeout: a locked or missing
 * secret service never hangs the server. The auth.json lock still serialises writers.
 */
import { createHash } from 'node:crypto';
import { realpathSync } from 'node:fs';
import { resolve } from 'node:path';
import { Worker } from 'node:worker_threads';
import { parseStoredAuth, type AuthRecord, type StoredAuth } from './auth-record.js';
import { deleteAuthFile, fingerprintOf, withAuthLock } from './file-store.js';
import type { CredentialStore } from './credential-store.js';

export const KEYRING_SERVICE = 'Codex Auth';
export const KEYRING_TIMEOUT_MS = 3_000;
/** Test hook: a module exporting an `Entry` class with the @napi-rs/keyring API (e.g. a fake that hangs). */
export const KEYRING_MODULE_ENV = 'CODEX_AUTH_MCP_KEYRING_MODULE';

export interface KeyringCall {
  op: 'get' | 'set' | 'delete';
  service: string;
  account: string;
  value?: string;
  module?: string;
}

type KeyringAnswer = { ok: true; value: string | null } | { ok: false; message: string };

const WORKER_FILE = new URL('../../workers/keyring-call.js', import.meta.url);

export function keyringAccount(codexHome: string): string {
  let canonical: string;
  try {
    canonical = realpathSync(codexHome);
  } catch {
    canonical = resolve(codexHome);
  }
  return `cli|${createHash('sha256').update(canonical).digest('hex').slice(0, 16)}`;
}

export function callKeyring(call: Omit<KeyringCall, 'module'>, timeoutMs = KEYRING_TIMEOUT_MS): Promise<KeyringAnswer> {
  const module = process.env[KEYRING_MODULE_ENV];
  return new Promise((done) => {
    const worker = new Worker(WORKER_FILE, { workerData: { ...call, ...(module && { module }) } });
    const finish = (answer: KeyringAnswer) => {
      clearTimeout(timer);
      worker.removeAllListeners();
      void worker.terminate();
      done(answer);
    };
    const timer = setTimeout(() => finish({ ok: false, message: `the keyring did not answer within ${timeoutMs / 1000} s` }), timeoutMs);
    worker.once('message', (answer: KeyringAnswer) => finish(answer));
    worker.once('error', (error) => finish({ ok: false, message: error.message }));
    worker.once('exit', () => finish({ ok: false, message: 'the keyring call ended without an answer' }));
  });
}

export function keyringStore(codexHome: string): CredentialStore {
  const account = keyringAccount(codexHome);
  const entry = { service: KEYRING_SERVICE, account };
  return {
    kind: 'keyring',
    async load(): Promise<StoredAuth> {
      const answer = await callKeyring({ ...entry, op: 'get' });
      if (!answer.ok) return { kind: 'unusable', code: 'keyring_unavailable', reason: `the OS keyring is not usable (${answer.message})`, fingerprint: 'keyring-unavailable' };
      if (answer.value === null) return { kind: 'missing' };
      return parseStoredAuth(answer.value, `keyring:${fingerprintOf(answer.value)}`);
    },
    async save(record: AuthRecord): Promise<void> {
      const answer = await callKeyring({ ...entry, op: 'set', value: JSON.stringify(record) });
      if (!answer.ok) throw new Error(`cannot store the credentials in the OS keyring: ${answer.message}`);
      // A plaintext copy left from file mode must not outlive the move to the keyring; if it
      // cannot be removed, the status reports it (storageWarning).
      await deleteAuthFile(codexHome).catch(() => undefined);
    },
    async delete(): Promise<boolean> {
      const answer = await callKeyring({ ...entry, op: 'delete' });
      const removedFile = await deleteAuthFile(codexHome);
      if (!answer.ok && !/no (matching )?entry|not found/i.test(answer.message)) throw new Error(`cannot remove the credentials from the OS keyring: ${answer.message}`);
      return (answer.ok && answer.value === 'deleted') || removedFile;
    },
    withLock: (fn, options) => withAuthLock(codexHome, fn, options),
  };
}
