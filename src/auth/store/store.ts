/**
 * One interface for wherever credentials live, and the one way to open it. Every reader and
 * writer goes through it, so the lock, the atomic write and the change watching are the same for
 * all. The backend is chosen by `cli_auth_credentials_store` (StoreOptions, src/protocol/storage.ts):
 *
 *  - `file` (default, file.ts): auth.json, as Codex 0.171 writes it.
 *  - `keyring` (keyring.ts): the OS keyring entry the original uses; never a silent file.
 *  - `auto` (auto.ts): the keyring when it works, else auth.json, and `warning` says so.
 *  - `ephemeral` (memory.ts): this process's memory only, shared by its threads.
 *
 * Which copy wins when the keyring and auth.json both hold one is which-copy.ts. Every backend but
 * memory takes Codex's locks (locks.ts) for writers. This folder runs on all three threads: main,
 * login worker, token service.
 */
import type { StorageKind, StorageMode, StoreOptions } from '../../protocol/storage.js';
import { autoStore } from './auto.js';
import { fileStore } from './file.js';
import { keyringStore } from './keyring.js';
import type { LockOptions } from './locks.js';
import { createSharedMemory, memoryStore } from './memory.js';
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

/** The options every thread opens this process's store with; ephemeral storage gets its shared memory here. */
export function storeOptionsFor(codexHome: string, mode: StorageMode, keyringPollMs?: number): StoreOptions {
  if (mode === 'ephemeral') return { codexHome, mode, memory: createSharedMemory(), sessionMemory: createSharedMemory() };
  return keyringPollMs === undefined ? { codexHome, mode } : { codexHome, mode, keyringPollMs };
}

export function openCredentialStore(options: StoreOptions): CredentialStore {
  if (options.mode === 'ephemeral') return memoryStore(options);
  if (options.mode === 'keyring') return keyringStore(options.codexHome, options.keyringPollMs);
  if (options.mode === 'auto') return autoStore(options.codexHome, options.keyringPollMs);
  return fileStore(options.codexHome);
}
