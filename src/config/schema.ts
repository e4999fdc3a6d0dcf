/**
 * The config keys codex-auth-mcp reads, with their types and defaults. Every other key of a
 * real config.toml belongs to Codex and is ignored (never rejected). Adding a key is one line.
 */
import * as z from '../protocol/zod.js';
import { StorageModeSchema } from '../protocol/storage.js';

export const DEFAULT_ISSUER = 'https://auth.openai.com';

const seconds = () => z.number().check(z.positive(), z.maximum(24 * 60 * 60));

export const ConfigSchema = z.object({
  preferred_auth_method: z._default(z.enum(['chatgpt', 'apikey']), 'chatgpt'),
  auth_issuer: z._default(
    z.pipe(
      z.url({ protocol: /^https?$/ }),
      z.transform((url: string) => url.replace(/\/+$/, '')),
    ),
    DEFAULT_ISSUER,
  ),
  login_callback_port: z._default(z.int().check(z.minimum(0), z.maximum(65535)), 1455),
  login_timeout_secs: z._default(seconds(), 600),
  refresh_timeout_secs: z._default(seconds(), 20),
  device_code_timeout_secs: z._default(seconds(), 15 * 60),
  forced_login_method: z.optional(z.enum(['chatgpt', 'api'])),
  /**
   * The ChatGPT workspace(s) a sign-in must be for: one id or a TOML list, as 0.171 accepts (an
   * empty string or list: no restriction; a comma in a string is refused with 0.171's message).
   */
  forced_chatgpt_workspace_id: z.optional(
    z.pipe(
      z.union([
        z.string().check(
          z.refine((id: string) => !id.includes(','), {
            message:
              'forced_chatgpt_workspace_id must be a single workspace ID string or a TOML list of strings; comma-separated strings are not supported. Use `forced_chatgpt_workspace_id = ["123e4567-e89b-42d3-a456-426614174000", "123e4567-e89b-42d3-a456-426614174001"]` instead.',
          }),
        ),
        z.array(z.string()),
      ]),
      z.transform((value: string | string[]) => {
        const ids = (typeof value === 'string' ? [value] : value).filter((id) => id !== '');
        return ids.length ? ids : undefined;
      }),
    ),
  ),
  cli_auth_credentials_store: z._default(StorageModeSchema, 'file'),
  /** How often a keyring entry is read for changes other programs make (the OS keyring sends no events). */
  keyring_poll_secs: z._default(seconds(), 15),
  logout_revokes_tokens: z._default(z.boolean(), true),
  revoke_timeout_secs: z._default(seconds(), 10),
  /** Inactive account sessions are refreshed once their tokens are this old (default 7 days, inside Codex's 8-day staleness). */
  account_sessions_refresh_after_secs: z._default(z.number().check(z.nonnegative(), z.maximum(30 * 24 * 60 * 60)), 7 * 24 * 60 * 60),
});

export type Config = Readonly<z.infer<typeof ConfigSchema>>;

/** The keys we read, so a profile only lends those and error messages can list them. */
export const KNOWN_KEYS = Object.keys(ConfigSchema.shape) as (keyof Config)[];
