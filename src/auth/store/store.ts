/**
 * One interface for wherever credentials live (credential-store.ts), and the one table that opens
 * them: every reader and writer goes through it, so the lock, the atomic write and the change
 * watching are the same for all. The backend is chosen by `cli_auth_credentials_store`
 * (StoreOptions, src/protocol/storage.ts):
 *
 *  - `file` (default, file.ts): auth.json, as Codex 0.171 writes it.
 *  - `keyring` (keyring.ts): the OS keyring entry the original uses; never a silent file.
 *  - `auto` (auto.ts): the keyring when it works, else auth.json, and `warning` says so.
 *  - `ephemeral` (memory.ts): this process's memory only, shared by its threads.
 *
 * BACKENDS has one entry per mode, and its type demands each: a new mode in StorageModeSchema
 * does not compile until it has a store, a vault and its presence checks here (there is no
 * fallback to `file` for a mode nobody named).
 *
 * Which copy wins when the keyring and auth.json both hold one is which-copy.ts. Every backend but
 * memory takes Codex's locks (locks.ts) for writers. This folder runs on all three threads: main,
 * login worker, token service.
 */
import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { StorageMode, StoreOptions } from '../../protocol/storage.js';
import { authFilePath } from './auth-file.js';
import { autoStore } from './auto.js';
import type { CredentialStore } from './credential-store.js';
import { fileStore } from './file.js';
import { keyringStore } from './keyring.js';
import { createSharedMemory, memoryStore, sharedText } from './memory.js';
import { autoVault, fileVault, keyringVault, LEGACY_SESSIONS_FILE_NAME, memoryVault, SESSIONS_FILE_NAME, type SessionVault } from './session-vault.js';

export type { CredentialStore, SaveOptions } from './credential-store.js';

/** Everything that differs between storage modes. */
export interface Backend {
  /** The options every thread opens this process's store with (ephemeral storage gets its shared memory here). */
  options(codexHome: string, keyringPollMs: number | undefined): StoreOptions;
  /** The active account's credentials. */
  store(options: StoreOptions): CredentialStore;
  /** The inactive accounts' tokens (session-vault.ts). */
  vault(options: StoreOptions): SessionVault;
  /**
   * Whether there may be inactive sessions, found without a worker: lets an idle server with one
   * account never start a thread for them. A keyring vault cannot be looked at cheaply (a helper
   * process), so it answers "maybe".
   */
  mayHoldSessions(options: StoreOptions): Promise<boolean>;
  /**
   * The file that holds the record when nothing else can (so its absence means nothing is
   * stored, seen by the main thread without a worker: src/auth/nothing-stored.ts); undefined when
   * only the backend itself can tell.
   */
  recordFile(options: StoreOptions): string | undefined;
  /** Whether it writes to CODEX_HOME (credentials or Codex's lock files), which must then exist. */
  readonly writesCodexHome: boolean;
}

const plainOptions = (mode: StorageMode) => (codexHome: string, keyringPollMs: number | undefined): StoreOptions =>
  keyringPollMs === undefined ? { codexHome, mode } : { codexHome, mode, keyringPollMs };
const MAYBE = async () => true;
const NO_FILE = () => undefined;

export const BACKENDS: { readonly [M in StorageMode]: Backend } = {
  file: {
    options: plainOptions('file'),
    store: (options) => fileStore(options.codexHome),
    vault: (options) => fileVault(options.codexHome),
    mayHoldSessions: async (options) => {
      const exists = (name: string) => stat(join(options.codexHome, name)).then(() => true, () => false);
      // Our old file name too: the first read adopts it (session-vault.ts).
      return (await exists(SESSIONS_FILE_NAME)) || exists(LEGACY_SESSIONS_FILE_NAME);
    },
    recordFile: (options) => authFilePath(options.codexHome),
    writesCodexHome: true,
  },
  keyring: {
    options: plainOptions('keyring'),
    store: (options) => keyringStore(options.codexHome, options.keyringPollMs),
    vault: (options) => keyringVault(options.codexHome),
    mayHoldSessions: MAYBE,
    recordFile: NO_FILE,
    writesCodexHome: true,
  },
  auto: {
    options: plainOptions('auto'),
    store: (options) => autoStore(options.codexHome, options.keyringPollMs),
    vault: (options) => autoVault(options.codexHome),
    mayHoldSessions: MAYBE,
    recordFile: NO_FILE,
    writesCodexHome: true,
  },
  ephemeral: {
    options: (codexHome) => ({ codexHome, mode: 'ephemeral', memory: createSharedMemory(), sessionMemory: createSharedMemory() }),
    store: memoryStore,
    vault: memoryVault,
    mayHoldSessions: async (options) => options.sessionMemory !== undefined && sharedText(options.sessionMemory).read() !== undefined,
    recordFile: NO_FILE,
    writesCodexHome: false,
  },
};

/** The options every thread opens this process's store with. */
export const storeOptionsFor = (codexHome: string, mode: StorageMode, keyringPollMs?: number): StoreOptions => BACKENDS[mode].options(codexHome, keyringPollMs);

export const openCredentialStore = (options: StoreOptions): CredentialStore => BACKENDS[options.mode].store(options);

export const openSessionVault = (options: StoreOptions): SessionVault => BACKENDS[options.mode].vault(options);

export const mayHoldSessions = (options: StoreOptions): Promise<boolean> => BACKENDS[options.mode].mayHoldSessions(options);
