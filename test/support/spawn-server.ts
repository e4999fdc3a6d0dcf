/**
 * Our built server (or the original `codex mcp`) spawned for a test with a clean environment, as
 * an RpcClient (dev/rpc-client.ts) with the test defaults.
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { RpcClient } from '../../dev/rpc-client.js';
import { serverEntry, originalCodexBinary } from './paths.js';

export interface SpawnOptions {
  codexHome: string;
  args?: string[];
  env?: Record<string, string | undefined>;
  /** Run the original Rust `codex mcp` instead of ours. */
  original?: boolean;
  /** A command the server is run under (e.g. support/etc-codex.ts's private /etc/codex). */
  wrapper?: readonly string[];
}

/** Spawns our built server (or the original) with a clean environment plus `env`. */
export function spawnServer(options: SpawnOptions): RpcClient<ChildProcessWithoutNullStreams> {
  const env: Record<string, string> = {};
  for (const key of ['PATH', 'HOME', 'LANG', 'TMPDIR', 'SYSTEMROOT', 'NODE_EXTRA_CA_CERTS']) {
    if (process.env[key]) env[key] = process.env[key]!;
  }
  env['CODEX_HOME'] = options.codexHome;
  for (const [key, value] of Object.entries(options.env ?? {})) {
    if (value === undefined) delete env[key];
    else env[key] = value;
  }
  const [command, ...args] = options.original ? [originalCodexBinary, 'mcp', ...(options.args ?? [])] : [process.execPath, serverEntry, ...(options.args ?? [])];
  const wrapper = options.wrapper ?? [];
  const child = wrapper.length ? spawn(wrapper[0]!, [...wrapper.slice(1), command!, ...args], { env }) : spawn(command!, args, { env });
  return new RpcClient(child);
}

/** Spawns our server for one test and stops it when the test ends. */
export function startServer(t: { after(fn: () => unknown): void }, options: SpawnOptions): RpcClient<ChildProcessWithoutNullStreams> {
  const client = spawnServer(options);
  t.after(async () => {
    client.kill();
    await client.exited;
  });
  return client;
}
