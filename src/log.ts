/**
 * Logging to stderr only (stdout belongs to JSON-RPC). Level from CODEX_AUTH_MCP_LOG
 * (trace|debug|info|warn|error|silent; default warn). Secrets are redacted by key name as a last
 * line of defence; code should never pass them to the logger in the first place.
 */
import { pino, type Logger as PinoLogger } from 'pino';

export type Logger = Pick<PinoLogger, 'trace' | 'debug' | 'info' | 'warn' | 'error' | 'child'>;

export const LOG_LEVEL_ENV = 'CODEX_AUTH_MCP_LOG';

const SECRET_KEYS = [
  'token', 'authToken', 'accessToken', 'access_token', 'refreshToken', 'refresh_token', 'id_token',
  'idToken', 'apiKey', 'OPENAI_API_KEY', 'code', 'state', 'verifier', 'codeVerifier', 'code_verifier',
  'password', 'authorization',
];

export function createLogger(name = 'codex-auth-mcp'): Logger {
  const level = process.env[LOG_LEVEL_ENV] || 'warn';
  return pino(
    {
      name,
      level,
      redact: { paths: [...SECRET_KEYS, ...SECRET_KEYS.map((k) => `*.${k}`)], censor: '[redacted]' },
    },
    pino.destination({ fd: 2, sync: true }),
  );
}
