/** The tasks the main thread sends to the token service pool (plain data, structured-cloned). */
import { z } from 'zod';
import { AuthMethodSchema } from '../protocol/auth-wire.js';

export const StoreOptionsSchema = z.object({
  codexHome: z.string(),
  mode: z.enum(['file', 'keyring', 'auto']),
});

export const ValidateTaskSchema = z.object({
  store: StoreOptionsSchema,
  resolve: z.object({
    preferredAuthMethod: AuthMethodSchema,
    envApiKey: z.string().optional(),
  }),
});
export type ValidateTask = z.infer<typeof ValidateTaskSchema>;
