/**
 * A real Secret Service for tests: gnome-keyring-daemon, unlocked, on a private D-Bus session bus
 * that lives until close(). Processes under test reach it through `env`
 * (DBUS_SESSION_BUS_ADDRESS); the developer's own session and keyrings are never touched.
 *
 * How it starts without racing: the bus (dbus-run-session with a config of its own) knows one
 * activatable service, org.freedesktop.secrets, and that is our unlocked daemon (`--unlock` reads
 * the password from stdin). The session's command asks the bus to StartServiceByName, whose reply
 * comes once the daemon owns the name, so a client can never meet a half-started daemon nor get
 * the system's D-Bus-activated (locked) one; then it prints `ready <daemon pid> <bus address>` on
 * fd 3 and waits for its stdin to end. close() ends that stdin: the command exits,
 * dbus-run-session ends the bus, and the daemon leaves with it. Every one of them holds the
 * stdout/stderr pipes of the session, so their 'close' means all of them are gone.
 *
 * Needs dbus-run-session and dbus-send (Debian: dbus), gnome-keyring-daemon (gnome-keyring) and
 * secret-tool (libsecret-tools); .ci/run installs them. A missing one throws: the test fails.
 */
import { execFile, spawn } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { delimiter, dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { promisify } from 'node:util';
import { isRunning } from './processes.js';

/** A D-Bus or secret-tool call that hangs (a prompt, a stuck bus) fails the test instead of holding it. */
const CALL_TIMEOUT_MS = 15_000;
const run = (file: string, args: string[], options: { env: NodeJS.ProcessEnv }) => promisify(execFile)(file, args, { ...options, timeout: CALL_TIMEOUT_MS });

const TOOLS = ['dbus-run-session', 'dbus-send', 'gnome-keyring-daemon', 'secret-tool'];

/** Throws (naming the Debian packages) when a tool the secret service needs is not on PATH. */
export function requireSecretServiceTools(): void {
  const dirs = (process.env['PATH'] ?? '').split(delimiter).filter(Boolean);
  for (const tool of TOOLS) {
    const found = dirs.some((dir) => {
      try {
        accessSync(join(dir, tool), constants.X_OK);
        return true;
      } catch {
        return false;
      }
    });
    if (!found) throw new Error(`${tool} is missing: apt-get install dbus gnome-keyring libsecret-tools`);
  }
}

export interface SecretItem {
  /** D-Bus object path, e.g. /org/freedesktop/secrets/collection/login/1 */
  readonly path: string;
  /** The collection's object path (the item path's parent). */
  readonly collection: string;
  readonly locked: boolean;
  readonly label: string;
  readonly attributes: Readonly<Record<string, string>>;
  /** The secret exactly as stored (looked up by all of the item's attributes). */
  readonly secret: string | undefined;
}

export interface SecretService {
  /** `{ DBUS_SESSION_BUS_ADDRESS }` for the processes that should use this secret service. */
  readonly env: { readonly DBUS_SESSION_BUS_ADDRESS: string };
  readonly daemonPid: number;
  /** Every item (unlocked or locked, in any collection) whose attributes include `match`. */
  items(match: Record<string, string>): Promise<SecretItem[]>;
  /** `secret-tool lookup`: the secret of the (first) item matching `attributes`, undefined if none. */
  lookup(attributes: Record<string, string>): Promise<string | undefined>;
  /** `secret-tool store` into the default collection. */
  store(label: string, attributes: Record<string, string>, secret: string): Promise<void>;
  /** The object path the `default` alias names (where clients store unless told otherwise). */
  defaultCollection(): Promise<string>;
  /** Ends the bus and the daemon and removes their files; fails if anything outlived them. */
  close(): Promise<void>;
}

const BUS_CONFIG = (dir: string) => `<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>session</type>
  <listen>unix:dir=${dir}/run</listen>
  <servicedir>${dir}/services</servicedir>
  <policy context="default">
    <allow send_destination="*"/>
    <allow receive_sender="*"/>
    <allow own="*"/>
  </policy>
</busconfig>
`;

const SESSION_COMMAND = [
  'dbus-send --session --print-reply --dest=org.freedesktop.DBus /org/freedesktop/DBus org.freedesktop.DBus.StartServiceByName string:org.freedesktop.secrets uint32:0 >/dev/null || exit 3',
  'owner=$(dbus-send --session --print-reply=literal --dest=org.freedesktop.DBus /org/freedesktop/DBus org.freedesktop.DBus.GetConnectionUnixProcessID string:org.freedesktop.secrets) || exit 4',
  'echo "ready ${owner##* } $DBUS_SESSION_BUS_ADDRESS" >&3',
  'exec 3>&-',
  'read -r _ || true',
].join('\n');

const CLOSE_GRACE_MS = 10_000;

export async function startSecretService(): Promise<SecretService> {
  requireSecretServiceTools();
  const dir = await mkdtemp(join(tmpdir(), 'secret-service-'));
  const home = join(dir, 'home');
  await Promise.all([mkdir(home), mkdir(join(dir, 'run'), { mode: 0o700 }), mkdir(join(dir, 'services'))]);
  // dbus parses Exec like a shell command line; the daemon's keyrings go to <dir>/home.
  await writeFile(join(dir, 'bus.conf'), BUS_CONFIG(dir));
  await writeFile(join(dir, 'keyring.sh'), `printf test | exec gnome-keyring-daemon --foreground --unlock --components=secrets --control-directory='${dir}/run/keyring'\n`);
  await writeFile(join(dir, 'services', 'org.freedesktop.secrets.service'), `[D-BUS Service]\nName=org.freedesktop.secrets\nExec=/bin/sh '${dir}/keyring.sh'\n`);

  const child = spawn('dbus-run-session', [`--config-file=${join(dir, 'bus.conf')}`, '--', 'sh', '-c', SESSION_COMMAND], {
    env: { PATH: process.env['PATH'] ?? '', HOME: home, XDG_DATA_HOME: join(home, '.local', 'share'), XDG_CONFIG_HOME: join(home, '.config'), XDG_RUNTIME_DIR: join(dir, 'run') },
    stdio: ['pipe', 'pipe', 'pipe', 'pipe'],
    detached: true, // its own process group: the last resort kills the bus and the daemon with it
  });
  let output = '';
  child.stdout!.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
  child.stdin!.on('error', () => undefined);
  const closed = new Promise<void>((resolve) => child.once('close', () => resolve()));

  let closing: Promise<void> | undefined;
  const close = () =>
    (closing ??= (async () => {
      child.stdin!.end();
      const lastResort = setTimeout(() => process.kill(-child.pid!, 'SIGKILL'), CLOSE_GRACE_MS);
      await closed.finally(() => clearTimeout(lastResort));
      await rm(dir, { recursive: true, force: true });
    })());

  let ready: string;
  try {
    ready = await new Promise<string>((resolve, reject) => {
      const lines = createInterface({ input: child.stdio[3] as NodeJS.ReadableStream });
      lines.once('line', resolve);
      child.once('error', reject);
      void closed.then(() => reject(new Error(`the secret service session ended before it was ready:\n${output}`)));
    });
  } catch (error) {
    await close();
    throw error;
  }
  const [, pid, address] = /^ready (\d+) (\S+)$/.exec(ready) ?? [];
  if (!pid || !address) {
    await close();
    throw new Error(`unexpected ready line ${JSON.stringify(ready)}`);
  }
  const daemonPid = Number(pid);
  const env = { DBUS_SESSION_BUS_ADDRESS: address };
  const childEnv = { ...process.env, ...env };
  const dbusSend = async (literal: boolean, dest: string, path: string, method: string, ...args: string[]) =>
    (await run('dbus-send', ['--session', `--print-reply${literal ? '=literal' : ''}`, `--dest=${dest}`, path, method, ...args], { env: childEnv })).stdout;
  const property = (path: string, name: string, literal: boolean) =>
    dbusSend(literal, 'org.freedesktop.secrets', path, 'org.freedesktop.DBus.Properties.Get', 'string:org.freedesktop.Secret.Item', `string:${name}`);
  const lookup = async (attributes: Record<string, string>) => {
    try {
      return (await run('secret-tool', ['lookup', ...Object.entries(attributes).flat()], { env: childEnv })).stdout;
    } catch {
      return undefined; // secret-tool exits 1 when nothing matches
    }
  };

  return {
    env,
    daemonPid,
    async items(match) {
      const pairs = Object.entries(match).flat();
      if (pairs.some((s) => s.includes(','))) throw new Error('dbus-send cannot pass a comma in a dict');
      const reply = await dbusSend(false, 'org.freedesktop.secrets', '/org/freedesktop/secrets', 'org.freedesktop.Secret.Service.SearchItems', `dict:string:string:${pairs.join(',')}`);
      // Two arrays of object paths: unlocked, then locked.
      const [unlocked = '', locked = ''] = reply.split(/^\s*array \[/m).slice(1);
      const paths = (text: string) => [...text.matchAll(/object path "([^"]+)"/g)].map((m) => m[1]!);
      const found = [...paths(unlocked).map((path) => ({ path, locked: false })), ...paths(locked).map((path) => ({ path, locked: true }))];
      return Promise.all(
        found.map(async ({ path, locked: isLocked }) => {
          const attributes = Object.fromEntries(
            [...(await property(path, 'Attributes', false)).matchAll(/dict entry\(\s*string "([^"]*)"\s*string "([^"]*)"\s*\)/g)].map((m) => [m[1]!, m[2]!]),
          );
          const label = (await property(path, 'Label', true)).replace(/^\s*variant\s+/, '').replace(/\n$/, '');
          return { path, collection: dirname(path), locked: isLocked, label, attributes, secret: await lookup(attributes) };
        }),
      );
    },
    lookup,
    async store(label, attributes, secret) {
      const pending = run('secret-tool', ['store', '--label', label, ...Object.entries(attributes).flat()], { env: childEnv });
      pending.child.stdin!.end(secret);
      await pending;
    },
    async defaultCollection() {
      return (await dbusSend(true, 'org.freedesktop.secrets', '/org/freedesktop/secrets', 'org.freedesktop.Secret.Service.ReadAlias', 'string:default')).trim().replace(/^object path\s+/, '');
    },
    async close() {
      await close();
      // 'close' came once every process holding the session's pipes had gone; the daemon is one.
      if (isRunning(daemonPid)) {
        process.kill(daemonPid, 'SIGKILL');
        throw new Error(`gnome-keyring-daemon ${daemonPid} outlived its bus (killed)`);
      }
    },
  };
}
