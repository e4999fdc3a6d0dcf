/**
 * Where credentials live: the one storage-options schema shared by the config, the credential
 * stores of every thread and the messages between threads.
 */
import { z } from 'zod';

/**
 * `cli_auth_credentials_store`, with exactly the values Codex 0.171 accepts. `ephemeral` keeps
 * the credentials in this process's memory only: nothing is written, and they end with it.
 */
export const StorageModeSchema = z.enum(['file', 'keyring', 'auto', 'ephemeral']);
export type StorageMode = z.infer<typeof StorageModeSchema>;

/** Where one load found the credentials (or one save put them). */
export const StorageKindSchema = z.enum(['file', 'keyring', 'memory']);
export type StorageKind = z.infer<typeof StorageKindSchema>;

export const StoreOptionsSchema = z.object({
  codexHome: z.string(),
  mode: StorageModeSchema,
  /** `ephemeral` only: the memory every thread of this process shares (see auth/store/memory.ts). */
  memory: z.custom<SharedArrayBuffer>((value) => value instanceof SharedArrayBuffer).optional(),
  /** `ephemeral` only: the memory holding the inactive account sessions (see auth/store/session-vault.ts). */
  sessionMemory: z.custom<SharedArrayBuffer>((value) => value instanceof SharedArrayBuffer).optional(),
  /** `keyring` and `auto`: how often the entry is read for changes other programs make (`keyring_poll_secs`). */
  keyringPollMs: z.number().positive().optional(),
});
export type StoreOptions = z.infer<typeof StoreOptionsSchema>;
