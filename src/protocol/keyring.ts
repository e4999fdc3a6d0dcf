/**
 * Messages between a credential store and the helper process that makes its OS keyring calls
 * (workers/keyring/main.ts), one at a time. Each request goes as one JSON line on the child's
 * stdin (never in argv, where `ps` would show the secret); the child answers each with JSON lines
 * on stdout, validated here on arrival.
 */
import * as z from './zod.js';

export const KeyringRequestSchema = z.object({
  op: z.enum(['get', 'set', 'delete']),
  service: z.string(),
  account: z.string(),
  /** The value to store (`set` only). */
  value: z.optional(z.string()),
});
export type KeyringRequest = z.infer<typeof KeyringRequestSchema>;

/** What the child writes: first `started` (the binding is loaded; the call begins), then the reply. */
export const KeyringMessageSchema = z.union([
  z.object({ started: z.literal(true) }),
  z.object({
    ok: z.literal(true),
    /** `get`: the stored value, or null when there is no entry. */
    value: z.optional(z.nullable(z.string())),
    /** `delete`: whether an entry was removed. */
    removed: z.optional(z.boolean()),
  }),
  z.object({ ok: z.literal(false), message: z.string() }),
]);
export type KeyringMessage = z.infer<typeof KeyringMessageSchema>;
export type KeyringReply = Exclude<KeyringMessage, { started: true }>;
