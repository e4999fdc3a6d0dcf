/**
 * One interface for wherever credentials live. Every reader and writer (main thread, login
 * worker, token service) goes through it, so the lock and the atomic write are the same for all.
 */
import { existsSync } from 'node:fs';
import type { AuthRecord, StoredAuth } from './auth-record.js';
import { authFilePath, deleteAuthFile, readAuthFile, withAuthLock, writeAuthFile, type LockOptions } from './file-store.js';
import { keyringStore } from './keyring-store.js';

export type { LockOptions };
export type StorageKind = 'file' | 'keyring';
export type StorageMode = 'file' | 'keyring' | 'auto';

export interface CredentialStore {
  /** Where the last load found (or will put) the credentials. */
  readonly kind: StorageKind;
  /** Set when the store had to fall back, or found something the person should know. */
  readonly warning?: string | undefined;
  load(): Promise<StoredAuth>;
  save(record: AuthRecord): Promise<void>;
  /** Returns whether anything was removed. */
  delete(): Promise<boolean>;
  /** Serialises read-modify-write cycles across threads and processes. */
  withLock<T>(fn: () => Promise<T>, options?: LockOptions): Promise<T>;
}

export interface StoreOptions {
  readonly codexHome: string;
  readonly mode: StorageMode;
}

export function fileStore(codexHome: string): CredentialStore {
  return {
    kind: 'file',
    load: () => readAuthFile(codexHome),
    save: (record) => writeAuthFile(codexHome, record),
    delete: () => deleteAuthFile(codexHome),
    withLock: (fn, options) => withAuthLock(codexHome, fn, options),
  };
}

/**
 * `keyring`: the OS keyring only; when it is not usable that is an error, never a silent file.
 * `auto`: the keyring when it works, else auth.json, and the fallback is reported.
 */
export function openCredentialStore(options: StoreOptions): CredentialStore {
  if (options.mode === 'file') return fileStore(options.codexHome);
  const keyring = withLeftoverCheck(keyringStore(options.codexHome), options.codexHome);
  return options.mode === 'keyring' ? keyring : autoStore(keyring, fileStore(options.codexHome));
}

function withLeftoverCheck(store: CredentialStore, codexHome: string): CredentialStore {
  return {
    ...store,
    get warning() {
      return existsSync(authFilePath(codexHome))
        ? `a plaintext ${authFilePath(codexHome)} is still present next to the keyring entry; remove it`
        : undefined;
    },
  };
}

function autoStore(keyring: CredentialStore, file: CredentialStore): CredentialStore {
  let fallback: string | undefined;
  const active = () => (fallback ? file : keyring);
  return {
    get kind() {
      return active().kind;
    },
    get warning() {
      return fallback ? `the OS keyring is not usable (${fallback}); credentials are in auth.json` : keyring.warning;
    },
    async load() {
      const stored = await keyring.load();
      if (stored.kind === 'unusable' && stored.code === 'keyring_unavailable') {
        fallback = stored.reason;
        return file.load();
      }
      fallback = undefined;
      return stored;
    },
    async save(record) {
      try {
        await keyring.save(record);
        fallback = undefined;
      } catch (error) {
        fallback = (error as Error).message;
        await file.save(record);
      }
    },
    delete: async () => (await Promise.all([keyring.delete().catch(() => false), file.delete()])).some(Boolean),
    withLock: (fn, options) => keyring.withLock(fn, options),
  };
}
