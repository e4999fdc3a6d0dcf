/**
 * Where credentials live: the one storage-options schema shared by the config, the credential
 * stores of every thread and the messages between threads.
 */
import * as z from './zod.js';

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
  memory: z.optional(z.custom<SharedArrayBuffer>((value) => value instanceof SharedArrayBuffer)),
  /** `ephemeral` only: the memory holding the inactive account sessions (see auth/store/session-vault.ts). */
  sessionMemory: z.optional(z.custom<SharedArrayBuffer>((value) => value instanceof SharedArrayBuffer)),
  /** `keyring` and `auto`: how often the entry is read for changes other programs make (`keyring_poll_secs`). */
  keyringPollMs: z.optional(z.number().check(z.positive())),
});
export type StoreOptions = z.infer<typeof StoreOptionsSchema>;
