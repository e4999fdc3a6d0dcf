/**
 * The floor of `codex-auth-mcp status`: the least a Node script that answers it can do. Reads
 * $CODEX_HOME/auth.json, parses it and prints one line. The goal for `status` is set against it.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

const record = JSON.parse(readFileSync(join(process.env['CODEX_HOME'] ?? '.', 'auth.json'), 'utf8')) as { OPENAI_API_KEY?: unknown };
process.stdout.write(record.OPENAI_API_KEY ? 'Signed in with an API key.\n' : 'Not signed in.\n');
