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
import { AsyncLocalStorage } from 'node:async_hooks';
import { createRequire } from 'node:module';
import type PinoModule from 'pino';
import type { Logger as PinoLogger } from 'pino';

export type Logger = Pick<PinoLogger, 'trace' | 'debug' | 'info' | 'warn' | 'error'>;
export type LogMethod = keyof Logger;

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

/**
 * MCP's `logging` (src/server/mcp/client-logs.ts): the same lines, redacted by the same rules, also go
 * to the client as `notifications/message` — to the whole connection once an initialize-era client
 * sent `logging/setLevel`, or, in the 2026-07-28 era, only to the request that asked for them with
 * `_meta` `logLevel` and only while it is in flight. A line goes to the client when it is at or above
 * the client's threshold, whatever CODEX_AUTH_MCP_LOG says for stderr.
 */
export interface ClientLogSink {
  /** pino's number for the lowest level the client wants (LEVEL_VALUES). */
  readonly threshold: number;
  /** One redacted line: its pino level, its logger's name, and the message with its fields. */
  write(level: LogMethod, logger: string, data: Record<string, unknown>): void;
}

let connectionSink: ClientLogSink | undefined;
const requestSinks = new AsyncLocalStorage<ClientLogSink>();
/** Whether any request ever asked for its logs: until then no line looks into the async context. */
let requestSinksUsed = false;

/** From now on, every line at or above its threshold also goes to this sink (logging/setLevel). */
export function setConnectionLogSink(sink: ClientLogSink | undefined): void {
  connectionSink = sink;
}

/** Runs `fn` with the lines it logs (in its async context) going to `sink` as well. */
export function withRequestLogSink<T>(sink: ClientLogSink, fn: () => T): T {
  requestSinksUsed = true;
  return requestSinks.run(sink, fn);
}

const clientSink = (): ClientLogSink | undefined => (requestSinksUsed ? (requestSinks.getStore() ?? connectionSink) : connectionSink);

/** pino's number for a level name (for a sink's threshold). */
export const levelValue = (level: (typeof LOG_LEVELS)[number]): number => LEVEL_VALUES[level];

export function createLogger(name = 'codex-auth-mcp'): Logger {
  const level = logLevel() as (typeof LOG_LEVELS)[number];
  let pinoLogger: PinoLogger | undefined;
  let clientPino: PinoLogger | undefined;
  const method = (method: LogMethod): Logger[LogMethod] => {
    const toStderr = LEVEL_VALUES[method] >= LEVEL_VALUES[level];
    return (...args: Parameters<Logger[LogMethod]>) => {
      const sink = clientSink();
      // Not from inside a client write (sending a line must not log its way back here).
      const toClient = sink !== undefined && lineSink === undefined && LEVEL_VALUES[method] >= sink.threshold;
      if (!toStderr && !toClient) return;
      try {
        if (toStderr) pinoLogger ??= startPino(name, level);
        if (toClient) clientPino ??= startClientPino(name);
      } catch (error) {
        // pino could not be loaded (EMFILE, say, the very moment worth logging): the message
        // alone, never its fields (they are what redaction would have to see), and a later
        // line tries the load again. A log line must never fail what it reports on.
        return toStderr ? writeBare(name, method, args, error) : undefined;
      }
      if (toStderr) pinoLogger![method](...args);
      if (toClient) {
        // pino writes to a plain stream synchronously: the line reaches this sink before the call returns.
        lineSink = (line) => sink.write(method, name, clientData(line));
        try {
          clientPino![method](...args);
        } catch {
          // A client that is gone must not fail the line, nor what it reports on.
        } finally {
          lineSink = undefined;
        }
      }
    };
  };
  return { trace: method('trace'), debug: method('debug'), info: method('info'), warn: method('warn'), error: method('error') };
}

const REDACT = { paths: [...SECRET_KEYS, ...SECRET_KEYS.map((k) => `*.${k}`)], censor: '[redacted]' };

/** Where the client's pino writes the line being logged (set only for the duration of one call). */
let lineSink: ((line: string) => void) | undefined;

/** A pino that formats (and redacts) lines for the client: no time, pid or host, every level. */
function startClientPino(name: string): PinoLogger {
  const { pino } = createRequire(import.meta.url)('pino') as typeof PinoModule;
  return pino({ name, level: 'trace', base: null, timestamp: false, redact: REDACT }, { write: (line: string) => lineSink?.(line) });
}

/** The message and its fields, as pino wrote them (redacted), without pino's own level number. */
function clientData(line: string): Record<string, unknown> {
  const { level: _level, ...data } = JSON.parse(line) as Record<string, unknown>;
  return data;
}

function startPino(name: string, level: string): PinoLogger {
  const { pino } = createRequire(import.meta.url)('pino') as typeof PinoModule;
  return pino(
    {
      name,
      level,
      redact: REDACT,
    },
    pino.destination({ fd: 2, sync: true }),
  );
}

function writeBare(name: string, level: LogMethod, args: unknown[], loadError: unknown): void {
  const message = args.find((arg): arg is string => typeof arg === 'string') ?? '';
  const why = loadError instanceof Error ? loadError.message : String(loadError);
  process.stderr.write(`${JSON.stringify({ level: LEVEL_VALUES[level], time: Date.now(), name, msg: message, logger: `unavailable: ${why}` })}\n`);
}
