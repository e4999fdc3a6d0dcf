/**
 * What every credential backend is (file.ts, keyring.ts, auto.ts, memory.ts): the interface
 * alone, apart from the table that opens them (store.ts), so a backend and the table do not
 * import each other.
 */
import type { StorageKind } from '../../protocol/storage.js';
import type { LockOptions } from './locks.js';
import type { AuthRecord, StoredAuth } from './record.js';

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
