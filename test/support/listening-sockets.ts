/**
 * The TCP sockets a process is listening on, read from /proc (Linux): its open socket inodes
 * (/proc/PID/fd) matched against the LISTEN rows of its network namespace's tables
 * (/proc/PID/net/tcp and tcp6). Worker threads share the process, so the login worker's callback
 * servers are counted too. Under CI=true a host without /proc fails the test rather than skip it.
 */
import { readFile, readdir, readlink } from 'node:fs/promises';

export interface ListeningSocket {
  readonly family: 4 | 6;
  /** The local address as /proc prints it (hex). */
  readonly address: string;
  readonly port: number;
}

const TCP_LISTEN = '0A';

export async function listeningSockets(pid: number): Promise<ListeningSocket[]> {
  const inodes = new Set<string>();
  for (const fd of await readdir(`/proc/${pid}/fd`)) {
    const target = await readlink(`/proc/${pid}/fd/${fd}`).catch(() => ''); // a descriptor closed meanwhile
    const inode = /^socket:\[(\d+)\]$/.exec(target)?.[1];
    if (inode) inodes.add(inode);
  }
  const found: ListeningSocket[] = [];
  for (const family of [4, 6] as const) {
    const table = await readFile(`/proc/${pid}/net/${family === 4 ? 'tcp' : 'tcp6'}`, 'utf8');
    for (const row of table.split('\n').slice(1)) {
      // sl local_address rem_address st tx:rx tr:when retrnsmt uid timeout inode …
      const fields = row.trim().split(/\s+/);
      if (fields.length < 10 || fields[3] !== TCP_LISTEN || !inodes.has(fields[9]!)) continue;
      const [address, port] = fields[1]!.split(':');
      found.push({ family, address: address!, port: parseInt(port!, 16) });
    }
  }
  return found;
}

/** The distinct ports among a process's listening sockets, sorted. */
export async function listeningPorts(pid: number): Promise<number[]> {
  return [...new Set((await listeningSockets(pid)).map((s) => s.port))].sort((a, b) => a - b);
}
