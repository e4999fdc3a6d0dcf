/**
 * The credential record Codex stores in `$CODEX_HOME/auth.json` (or the keyring, or memory): its
 * on-disk wire format, shared by every thread. Unknown fields are kept (looseObject) so a rewrite
 * never drops what a newer Codex wrote. Reading and writing it: src/auth/store/.
 */
import * as z from './zod.js';

export const TokenDataSchema = z.looseObject({
  id_token: z.string(),
  access_token: z.string(),
  refresh_token: z.string(),
  account_id: z.nullish(z.string()),
});
export type TokenData = z.infer<typeof TokenDataSchema>;

export const AuthRecordSchema = z.looseObject({
  /** Which credential is in force, written by Codex 0.171 (and us) on every save; see resolve-snapshot.ts. */
  auth_mode: z.nullish(z.string()),
  OPENAI_API_KEY: z.nullish(z.string()),
  tokens: z.nullish(TokenDataSchema),
  // codex reads null as "none" (its own fixtures hold `"tokens": null, "last_refresh": null`).
  last_refresh: z.nullish(z.string()),
});
export type AuthRecord = z.infer<typeof AuthRecordSchema>;

