/** The CLI run to its end as a person would run it, for the CLI tests. */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { serverEntry } from './paths.js';

export interface CliRun {
  /** The exit code, or `killed (SIGNAL)` when it had to be stopped. */
  code: number | string;
  stdout: string;
  stderr: string;
}

/**
 * Runs `codex-auth-mcp ARGS` with CODEX_HOME set and no OPENAI_API_KEY; never rejects (the exit
 * code is part of the answer). Killed after 20 s: a hang is a failure, not a stuck suite.
 */
export async function runCli(codexHome: string, args: string[], options: { stdin?: string; env?: Record<string, string>; logLevel?: string } = {}): Promise<CliRun> {
  const child = spawn(process.execPath, [serverEntry, ...args], {
    env: { ...process.env, CODEX_HOME: codexHome, OPENAI_API_KEY: '', CODEX_AUTH_MCP_LOG: options.logLevel ?? 'warn', ...options.env },
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk) => (stdout += chunk));
  child.stderr.on('data', (chunk) => (stderr += chunk));
  child.stdin.end(options.stdin ?? '');
  const timer = setTimeout(() => child.kill('SIGKILL'), 20_000);
  const [code, signal] = await once(child, 'exit');
  clearTimeout(timer);
  return { code: (code as number | null) ?? `killed (${signal})`, stdout, stderr };
}
