/**
 * One interface for wherever credentials live. Every reader and writer (main thread, login
 * worker, token service) goes through it, so the lock, the atomic write and the change watching
 * are the same for all. Three backends, chosen by `cli_auth_credentials_store`:
 *
 *  - `file` (default): auth.json, written atomically with mode 0600.
 *  - `keyring`: the OS keyring entry the original uses. A keyring that cannot be used is an
 *    error (`keyring_unavailable`), never a silent file. A plaintext auth.json left from file mode
 *    is still read while the keyring has no entry (reported in `warning`), and removed by the
 *    next save; next to an entry it is ignored and reported. The one exception to "never a file":
 *    a record that cannot be got again (tokens a refresh just rotated; the old refresh token is
 *    spent) that the keyring refuses is written to auth.json, reported, rather than lost; such a
 *    file is refreshed later than the entry, which is how `load` tells it from a stale leftover.
 *  - `auto`: the keyring when it works, else auth.json, and `warning` says so. auth.json is only
 *    written when the keyring failed and is removed after every keyring save, so when both exist
 *    the file is the newer copy: it is used (reported) and moves to the keyring at the next save.
 *
 * Every backend takes Codex's locks (`auth.lock`, then `auth.json.lock`) for writers, so a keyring
 * writer and a file writer of the same CODEX_HOME, ours or Codex's, still serialise. After `load` or `save`, `kind` says where
 * the credentials were found or put.
 */
import { watch as watchDirectory, type FSWatcher } from 'node:fs';
import { stat } from 'node:fs/promises';
import { parseStoredAuth, type AuthRecord, type StoredAuth } from './auth-record.js';
import {
  announceKeyringWrite,
  AUTH_FILE_NAME,
  authFilePath,
  COMMIT_LOCK_NAME,
  deleteAuthFile,
  fingerprintOf,
  readAuthFile,
  withAuthLock,
  writeAuthFile,
  type LockOptions,
} from './file-store.js';
import { keyringEntry, type KeyringEntry } from './keyring-store.js';

import { createSharedMemory, MemoryCredentials } from './memory-store.js';
import type { StorageKind, StorageMode, StoreOptions } from '../protocol/storage.js';

export type { LockOptions, StorageKind, StorageMode, StoreOptions };

/**
 * The OS keyring sends no change events. Writers of this server touch `auth.json.lock` after a
 * keyring write, which is an event in CODEX_HOME; other programs' changes (codex itself) are found
 * by reading the entry this often (one helper process per look: ~70 ms of CPU).
 */
export const KEYRING_POLL_MS = 15_000;
/** While CODEX_HOME does not exist yet, how often to look for it. */
const HOME_POLL_MS = 100;

export interface CredentialStore {
  /** Where the last load found (or the last save put) the credentials. */
  readonly kind: StorageKind;
  /** Set when the store had to fall back, or found something the person should know. */
  readonly warning?: string | undefined;
  load(): Promise<StoredAuth>;
  save(record: AuthRecord, options?: SaveOptions): Promise<void>;
  /** Returns whether anything was removed. */
  delete(): Promise<boolean>;
  /** Serialises read-modify-write cycles across threads and processes. */
  withLock<T>(fn: () => Promise<T>, options?: LockOptions): Promise<T>;
  /**
   * Calls `onChange` whenever the stored credentials may have changed, by this process or any
   * other (several calls per change are possible; compare fingerprints). Returns `stop`.
   */
  watch(onChange: () => void): () => void;
}

export interface SaveOptions {
  /**
   * The record cannot be got again (a refresh rotated the refresh token, so the stored one is
   * spent): a backend that refuses it keeps it somewhere, reported, instead of throwing it away.
   */
  readonly irreplaceable?: boolean;
}

/** The options every thread opens this process's store with; ephemeral storage gets its shared memory here. */
export function storeOptionsFor(codexHome: string, mode: StorageMode): StoreOptions {
  return mode === 'ephemeral' ? { codexHome, mode, memory: createSharedMemory() } : { codexHome, mode };
}

export function openCredentialStore(options: StoreOptions): CredentialStore {
  if (options.mode === 'ephemeral') return memoryStore(options);
  if (options.mode === 'keyring') return keyringStore(options.codexHome);
  if (options.mode === 'auto') return autoStore(options.codexHome);
  return fileStore(options.codexHome);
}

export function fileStore(codexHome: string): CredentialStore {
  return {
    kind: 'file',
    load: () => readAuthFile(codexHome),
    save: (record) => writeAuthFile(codexHome, record),
    delete: () => deleteAuthFile(codexHome),
    withLock: (fn, options) => withAuthLock(codexHome, fn, options),
    watch: (onChange) => watchCodexHome(codexHome, onChange),
  };
}

function memoryStore(options: StoreOptions): CredentialStore {
  if (!options.memory) throw new Error('ephemeral storage needs the shared memory from storeOptionsFor');
  const memory = new MemoryCredentials(options.memory);
  return {
    kind: 'memory',
    load: async () => memory.load(),
    save: async (record) => memory.save(record),
    delete: async () => memory.delete(),
    withLock: (fn, lockOptions) => memory.withLock(fn, lockOptions),
    watch: (onChange) => memory.watch(onChange),
  };
}

function keyringStore(codexHome: string): CredentialStore {
  const entry = keyringEntry(codexHome);
  const file = authFilePath(codexHome);
  let kind: StorageKind = 'keyring';
  let warning: string | undefined;
  return {
    get kind() {
      return kind;
    },
    get warning() {
      return warning;
    },
    async load() {
      const [answer, onDisk] = await Promise.all([entry.get(), readAuthFile(codexHome)]);
      kind = 'keyring';
      warning = undefined;
      if (!answer.ok) {
        if (onDisk.kind !== 'missing') warning = `a plaintext ${file} is present; it is not used in keyring mode`;
        return keyringUnavailable(answer.message);
      }
      if (answer.value == null) {
        if (onDisk.kind === 'missing') return onDisk;
        // Left from file mode: read rather than lost, said plainly, moved by the next save.
        kind = 'file';
        warning = `the credentials are still in plaintext ${file}, not in the OS keyring; they move there at the next sign-in or token refresh`;
        return onDisk;
      }
      const stored = fromKeyring(answer.value);
      if (onDisk.kind === 'present' && stored.kind === 'present' && refreshedLater(onDisk.record, stored.record)) {
        // Rotated tokens the keyring refused (see `save`): the only copy of the live refresh token.
        kind = 'file';
        warning = `the refreshed credentials are in plaintext ${file} because the OS keyring refused them; they move to the keyring at the next save`;
        return onDisk;
      }
      if (onDisk.kind !== 'missing') warning = `a plaintext ${file} is still present next to the OS keyring entry and is ignored; remove it`;
      return stored;
    },
    async save(record, options) {
      const answer = await entry.set(JSON.stringify(record));
      if (!answer.ok) {
        if (!options?.irreplaceable) throw new Error(`cannot store the credentials in the OS keyring (${answer.message})`);
        // Losing these would sign the person out for good; a reported plaintext copy is the lesser harm.
        await writeAuthFile(codexHome, record);
        kind = 'file';
        warning = `the OS keyring refused the refreshed credentials (${answer.message}); they are kept in plaintext ${file} so they are not lost, and move to the keyring at the next save`;
        return;
      }
      kind = 'keyring';
      warning = await removePlaintext(codexHome);
      await announceKeyringWrite(codexHome);
    },
    async delete() {
      const answer = await entry.remove();
      const removedFile = await deleteAuthFile(codexHome);
      if (!answer.ok) throw new Error(`cannot remove the credentials from the OS keyring (${answer.message})`);
      return answer.removed === true || removedFile;
    },
    withLock: (fn, options) => withAuthLock(codexHome, fn, options),
    watch: (onChange) => watchKeyring(entry, codexHome, onChange),
  };
}

function autoStore(codexHome: string): CredentialStore {
  const entry = keyringEntry(codexHome);
  const file = authFilePath(codexHome);
  let kind: StorageKind = 'keyring';
  let warning: string | undefined;
  const fellBack = (reason: string) => `the OS keyring is not usable (${reason}); the credentials are kept in plaintext ${file}`;
  return {
    get kind() {
      return kind;
    },
    get warning() {
      return warning;
    },
    async load() {
      const [answer, onDisk] = await Promise.all([entry.get(), readAuthFile(codexHome)]);
      if (!answer.ok) {
        kind = 'file';
        warning = fellBack(answer.message);
        return onDisk;
      }
      const inKeyring = answer.value == null ? undefined : fromKeyring(answer.value);
      kind = 'keyring';
      warning = undefined;
      if (onDisk.kind === 'missing') return inKeyring ?? onDisk;
      if (inKeyring?.kind === 'present' && onDisk.kind === 'unusable') {
        warning = `${file} cannot be used (${onDisk.reason}) and is ignored; remove it`;
        return inKeyring;
      }
      if (inKeyring?.kind === 'present' && onDisk.kind === 'present' && sameRecord(inKeyring.record, onDisk.record)) {
        warning = `a plaintext copy of the OS keyring entry is still at ${file}; remove it`;
        return inKeyring;
      }
      // Written while the keyring could not be used, so newer than any keyring entry.
      kind = 'file';
      warning = `the credentials are in plaintext ${file}; they move to the OS keyring at the next sign-in or token refresh`;
      return onDisk;
    },
    async save(record) {
      const answer = await entry.set(JSON.stringify(record));
      if (answer.ok) {
        kind = 'keyring';
        warning = await removePlaintext(codexHome);
        await announceKeyringWrite(codexHome);
        return;
      }
      await writeAuthFile(codexHome, record);
      kind = 'file';
      warning = fellBack(answer.message);
    },
    async delete() {
      // An unusable keyring cannot be emptied; the status keeps saying it is unusable.
      const [answer, removedFile] = await Promise.all([entry.remove(), deleteAuthFile(codexHome)]);
      return (answer.ok && answer.removed === true) || removedFile;
    },
    withLock: (fn, options) => withAuthLock(codexHome, fn, options),
    watch: (onChange) => watchKeyring(entry, codexHome, onChange),
  };
}

function keyringUnavailable(reason: string): StoredAuth {
  return { kind: 'unusable', code: 'keyring_unavailable', reason: `the OS keyring is not usable (${reason})`, fingerprint: 'keyring-unavailable' };
}

const fromKeyring = (text: string) => parseStoredAuth(text, `keyring:${fingerprintOf(text)}`);

const sameRecord = (a: AuthRecord, b: AuthRecord) => JSON.stringify(a) === JSON.stringify(b);

/** Whether `a` was refreshed after `b` (a missing or unreadable `last_refresh` is never later). */
function refreshedLater(a: AuthRecord, b: AuthRecord): boolean {
  const at = (record: AuthRecord) => (record.last_refresh ? Date.parse(record.last_refresh) : Number.NaN);
  const [ta, tb] = [at(a), at(b)];
  return Number.isFinite(ta) && (!Number.isFinite(tb) || ta > tb);
}

/** After a keyring save: the plaintext copy must go; if it cannot, that is reported, not hidden. */
async function removePlaintext(codexHome: string): Promise<string | undefined> {
  try {
    await deleteAuthFile(codexHome);
    return undefined;
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? 'error';
    return `the credentials are in the OS keyring, but the plaintext ${authFilePath(codexHome)} could not be removed (${code}); remove it`;
  }
}

/**
 * Keyring storage: auth.json and the lock's events in CODEX_HOME, plus a look at the keyring
 * entry every KEYRING_POLL_MS that calls `onChange` when what it holds differs from the last look
 * (the first look always does). The look runs in a helper process like every keyring call, so
 * this thread only starts it; a look still under way (a hung keyring) is not doubled.
 */
function watchKeyring(entry: KeyringEntry, codexHome: string, onChange: () => void): () => void {
  const stopFiles = watchCodexHome(codexHome, onChange, true);
  let last: string | undefined;
  let looking = false;
  let stopped = false;
  const look = async () => {
    if (looking || stopped) return;
    looking = true;
    const answer = await entry.get();
    looking = false;
    const seen = !answer.ok ? 'unavailable' : answer.value == null ? 'none' : fingerprintOf(answer.value);
    if (stopped || seen === last) return;
    last = seen;
    onChange();
  };
  void look();
  const poll = setInterval(() => void look(), KEYRING_POLL_MS);
  poll.unref();
  return () => {
    stopped = true;
    clearInterval(poll);
    stopFiles();
  };
}

/**
 * Watches CODEX_HOME for changes to auth.json and, with `lock`, for the touch of `auth.json.lock`
 * that follows a keyring write of ours; waits for the directory to appear if it does not exist yet.
 */
function watchCodexHome(codexHome: string, onChange: () => void, lock = false): () => void {
  let stopped = false;
  let watcher: FSWatcher | undefined;
  let homePoll: NodeJS.Timeout | undefined;

  const start = () => {
    try {
      watcher = watchDirectory(codexHome, { persistent: false }, (_event, name) => {
        if (name === null || name === AUTH_FILE_NAME || (lock && name === COMMIT_LOCK_NAME)) onChange();
      });
      watcher.on('error', waitForHome);
    } catch {
      waitForHome();
    }
  };
  // CODEX_HOME is missing (or went away): look for it until it exists, then watch it.
  function waitForHome() {
    watcher?.close();
    watcher = undefined;
    if (stopped || homePoll) return;
    homePoll = setInterval(() => {
      stat(codexHome).then(
        () => {
          if (stopped || !homePoll) return;
          clearInterval(homePoll);
          homePoll = undefined;
          start();
          onChange();
        },
        () => undefined,
      );
    }, HOME_POLL_MS);
    homePoll.unref();
  }

  start();
  return () => {
    stopped = true;
    watcher?.close();
    clearInterval(homePoll);
  };
}
