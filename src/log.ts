/**
 * Logging to stderr only (stdout belongs to JSON-RPC). Level from CODEX_AUTH_MCP_LOG
 * (trace|debug|info|warn|error|silent, any case; default warn): a value that is none of these
 * logs at the default — a log setting must never keep the server from starting — and the CLI
 * says so once (`logLevelProblem`). Secrets are redacted by key name as a last line of defence;
 * code should never pass them to the logger in the first place.
 *
 * pino is loaded on the first line logged at an enabled level, not at start: at the default
 * level most runs log nothing, and loading it costs a start ~10 ms. It stays outside the bundle
 * so that load can be a synchronous require() inside a log call.
 */
import { createRequire } from 'node:module';
import type PinoModule from 'pino';
import type { Logger as PinoLogger } from 'pino';

export type Logger = Pick<PinoLogger, 'trace' | 'debug' | 'info' | 'warn' | 'error'>;
type LogMethod = keyof Logger;

export const LOG_LEVEL_ENV = 'CODEX_AUTH_MCP_LOG';

const SECRET_KEYS = [
  'token', 'authToken', 'accessToken', 'access_token', 'refreshToken', 'refresh_token', 'id_token',
  'idToken', 'apiKey', 'OPENAI_API_KEY', 'code', 'state', 'verifier', 'codeVerifier', 'code_verifier',
  'password', 'authorization',
];

export const LOG_LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'] as const;
/** pino's numbers for its levels: a line is written when its level is at least the one in force. */
const LEVEL_VALUES: Record<(typeof LOG_LEVELS)[number], number> = { trace: 10, debug: 20, info: 30, warn: 40, error: 50, fatal: 60, silent: Infinity };
const DEFAULT_LEVEL = 'warn';

const requestedLevel = () => (process.env[LOG_LEVEL_ENV] ?? '').trim().toLowerCase();
const isLevel = (level: string): level is (typeof LOG_LEVELS)[number] => (LOG_LEVELS as readonly string[]).includes(level);

/** The level in force: CODEX_AUTH_MCP_LOG when it names one, the default otherwise. */
export function logLevel(): string {
  const level = requestedLevel();
  return isLevel(level) ? level : DEFAULT_LEVEL;
}

/** Why CODEX_AUTH_MCP_LOG is not used, when it is set to something that is not a level. */
export function logLevelProblem(): string | undefined {
  const level = requestedLevel();
  if (level === '' || isLevel(level)) return undefined;
  return `${LOG_LEVEL_ENV}=${JSON.stringify(process.env[LOG_LEVEL_ENV])} is not a log level (${LOG_LEVELS.join(', ')}); logging at ${DEFAULT_LEVEL}`;
}

export function createLogger(name = 'codex-auth-mcp'): Logger {
  const level = logLevel() as (typeof LOG_LEVELS)[number];
  let pinoLogger: PinoLogger | undefined;
  const method = (method: LogMethod): Logger[LogMethod] =>
    LEVEL_VALUES[method] < LEVEL_VALUES[level]
      ? () => undefined
      : (...args: Parameters<Logger[LogMethod]>) => {
          try {
            pinoLogger ??= startPino(name, level);
          } catch (error) {
            // pino could not be loaded (EMFILE, say, the very moment worth logging): the message
            // alone, never its fields (they are what redaction would have to see), and a later
            // line tries the load again. A log line must never fail what it reports on.
            return writeBare(name, method, args, error);
          }
          pinoLogger[method](...args);
        };
  return { trace: method('trace'), debug: method('debug'), info: method('info'), warn: method('warn'), error: method('error') };
}

function startPino(name: string, level: string): PinoLogger {
  const { pino } = createRequire(import.meta.url)('pino') as typeof PinoModule;
  return pino(
    {
      name,
      level,
      redact: { paths: [...SECRET_KEYS, ...SECRET_KEYS.map((k) => `*.${k}`)], censor: '[redacted]' },
    },
    pino.destination({ fd: 2, sync: true }),
  );
}

function writeBare(name: string, level: LogMethod, args: unknown[], loadError: unknown): void {
  const message = args.find((arg): arg is string => typeof arg === 'string') ?? '';
  const why = loadError instanceof Error ? loadError.message : String(loadError);
  process.stderr.write(`${JSON.stringify({ level: LEVEL_VALUES[level], time: Date.now(), name, msg: message, logger: `unavailable: ${why}` })}\n`);
}
