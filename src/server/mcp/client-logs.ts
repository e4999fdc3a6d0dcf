/**
 * MCP logging: the server's log lines, as the client asked for them. The lines are those of
 * src/log.ts — the same calls that write stderr, redacted by the same rules — mapped to MCP's
 * levels and sent as `notifications/message`:
 *
 * - initialize era: to the whole connection once the client sent `logging/setLevel` (nothing before);
 * - 2026-07-28: only to a request whose `_meta` carries `io.modelcontextprotocol/logLevel`, and only
 *   while it is in flight (the revision removed `logging/setLevel`; a server must not send
 *   `notifications/message` for a request that did not ask).
 *
 * The lines logged by the worker threads (the login worker's) stay on stderr.
 */
import { levelValue, setConnectionLogSink, type ClientLogSink, type LogMethod } from '../../log.js';
import type { LoggingLevel } from '../../protocol/mcp-wire.js';
import type { NotificationParams } from '../../protocol/methods.js';
import type { ServerHandlers } from '../context.js';

export type LogMessage = NotificationParams<'notifications/message'>;

/** The lowest of our levels each MCP level lets through; notice sits between info and warning. */
const THRESHOLD: Record<LoggingLevel, number> = {
  debug: levelValue('trace'),
  info: levelValue('info'),
  notice: levelValue('warn'),
  warning: levelValue('warn'),
  error: levelValue('error'),
  critical: levelValue('fatal'),
  alert: levelValue('silent'),
  emergency: levelValue('silent'),
};

const MCP_LEVEL: Record<LogMethod, LoggingLevel> = { trace: 'debug', debug: 'debug', info: 'info', warn: 'warning', error: 'error' };

/** A sink that sends each line at or above `level`, until `close()`. */
export function clientLogSink(level: LoggingLevel, send: (message: LogMessage) => void): ClientLogSink & { close(): void } {
  let open = true;
  return {
    threshold: THRESHOLD[level],
    write: (method, logger, data) => open && send({ level: MCP_LEVEL[method], logger, data }),
    close: () => void (open = false),
  };
}

/** `logging/setLevel` (initialize era): from now on the connection gets the lines at or above it. */
export function loggingMethods(send: (message: LogMessage) => void): ServerHandlers<'logging/setLevel'> {
  return {
    'logging/setLevel': ({ level }) => {
      setConnectionLogSink(clientLogSink(level, send));
      return {};
    },
  };
}
