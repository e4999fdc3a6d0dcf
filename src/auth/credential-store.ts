/**
 * One interface for wherever credentials live. Every reader and writer (main thread, login
 * worker, token service) goes through it, so the lock and the atomic write are the same for all.
 */
import type { AuthRecord, StoredAuth } from './auth-record.js';
import { deleteAuthFile, readAuthFile, withAuthLock, writeAuthFile, type LockOptions } from './file-store.js';

export type { LockOptions };

export type StorageKind = 'file' | 'keyring';
export type StorageMode = 'file' | 'keyring' | 'auto';

export interface CredentialStore {
  readonly kind: StorageKind;
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

export function openCredentialStore(options: StoreOptions): CredentialStore {
  return fileStore(options.codexHome);
}
