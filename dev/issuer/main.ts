/**
 * Runs the embedded issuer on its own: `node dist/dev/issuer/main.js [--port N] [--access-token-ttl SECS]`.
 * Prints one line of JSON, `{"url":"http://127.0.0.1:PORT"}`, on stdout (nothing else ever goes
 * there), then serves until SIGINT, SIGTERM or the end of stdin, and exits 0.
 */
import { startEmbeddedIssuer } from './embedded-issuer.js';

function numberFlag(name: string): number | undefined {
  const index = process.argv.indexOf(name);
  if (index < 0) return undefined;
  const value = Number(process.argv[index + 1]);
  if (!Number.isInteger(value) || value < 0) {
    process.stderr.write(`issuer: ${name} needs a whole number\n`);
    process.exit(2);
  }
  return value;
}

const port = numberFlag('--port') ?? 0;
const accessTokenTtlSecs = numberFlag('--access-token-ttl');

// Signal handlers before the URL is printed: whoever reads the line may stop us at once.
let issuer: Awaited<ReturnType<typeof startEmbeddedIssuer>> | undefined;
let stopping = false;
const stop = () => {
  if (stopping) return;
  stopping = true;
  void (issuer?.close() ?? Promise.resolve()).then(() => process.exit(0));
};
process.once('SIGINT', stop);
process.once('SIGTERM', stop);
process.stdin.on('end', stop);
process.stdin.on('error', stop);
process.stdin.resume();

try {
  issuer = await startEmbeddedIssuer({ port, ...(accessTokenTtlSecs !== undefined && { accessTokenTtlSecs }) });
} catch (error) {
  process.stderr.write(`issuer: could not start: ${(error as Error).message}\n`);
  process.exit(1);
}
process.stdout.write(`${JSON.stringify({ url: issuer.url })}\n`);
