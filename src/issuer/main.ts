/**
 * Runs the embedded issuer on its own: `node dist/src/issuer/main.js [--port N]`. Prints one JSON
 * line `{"url": …}` on stdout, then serves until SIGINT, SIGTERM or stdin closes.
 */
import { startEmbeddedIssuer } from './embedded-issuer.js';

const portFlag = process.argv.indexOf('--port');
const port = portFlag >= 0 ? Number(process.argv[portFlag + 1]) : 0;
const issuer = await startEmbeddedIssuer({ port });
process.stdout.write(`${JSON.stringify({ url: issuer.url })}\n`);

const stop = () => void issuer.close().then(() => process.exit(0));
process.once('SIGINT', stop);
process.once('SIGTERM', stop);
process.stdin.on('end', stop);
process.stdin.resume();
