/**
 * The config keys codex-auth-mcp reads, with their types and defaults. Every other key of a
 * real config.toml belongs to Codex and is ignored (never rejected). Adding a key is one line.
 */
import { z } from 'zod';
import { StorageModeSchema } from '../protocol/storage.js';

export const DEFAULT_ISSUER = 'https://auth.openai.com';

const seconds = () => z.number().positive().max(24 * 60 * 60);

export const ConfigSchema = z.object({
  preferred_auth_method: z.enum(['chatgpt', 'apikey']).default('chatgpt'),
  auth_issuer: z
    .url({ protocol: /^https?$/ })
    .transform((url) => url.replace(/\/+$/, ''))
    .default(DEFAULT_ISSUER),
  login_callback_port: z.int().min(0).max(65535).default(1455),
  login_timeout_secs: seconds().default(600),
  refresh_timeout_secs: seconds().default(20),
  device_code_timeout_secs: seconds().default(15 * 60),
  forced_login_method: z.enum(['chatgpt', 'api']).optional(),
  cli_auth_credentials_store: StorageModeSchema.default('file'),
  /** How often a keyring entry is read for changes other programs make (the OS keyring sends no events). */
  keyring_poll_secs: seconds().default(15),
  logout_revokes_tokens: z.boolean().default(true),
  revoke_timeout_secs: seconds().default(10),
  /** Inactive account sessions are refreshed once their tokens are this old (default 7 days, inside Codex's 8-day staleness). */
  account_sessions_refresh_after_secs: z.number().nonnegative().max(30 * 24 * 60 * 60).default(7 * 24 * 60 * 60),
});

export type Config = Readonly<z.infer<typeof ConfigSchema>>;

/** The keys we read, so a profile only lends those and error messages can list them. */
export const KNOWN_KEYS = Object.keys(ConfigSchema.shape) as (keyof Config)[];
