/**
 * A private /etc/codex for one process: Codex 0.171 reads its admin layers from fixed paths
 * (/etc/codex/config.toml, managed_config.toml, requirements.toml; no variable moves them), and
 * so do we. A test that needs those layers runs both programs under `wrapper`: a user and mount
 * namespace (`unshare -rm`) in which an overlay over /etc adds /etc/codex with the given files,
 * seen by that process alone — the machine's /etc is never touched, tests running beside it see
 * nothing. `unshare` execs the program in place (no fork), so killing the child kills it.
 *
 * Needs util-linux `unshare` and unprivileged user namespaces with overlayfs (Linux 5.11+); a
 * machine without them fails the test that asks (requireEtcCodexNamespace), never skips it.
 */
import { spawnSync } from 'node:child_process';
import { chmod, mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface EtcCodex {
  /** Prefix for a command: `[...wrapper, program, ...args]`. */
  readonly wrapper: readonly string[];
  remove(): Promise<void>;
}

// Each process gets its own upper and work folders: overlayfs refuses (mount exit 32) a work folder
// another live mount uses, and a test runs several processes on one /etc/codex at once.
const SCRIPT =
  'set -e; run=$(mktemp -d "$0/run.XXXXXX"); mkdir "$run/upper" "$run/work"; ' +
  'mount -t overlay overlay -o "lowerdir=/etc,upperdir=$run/upper,workdir=$run/work" /etc; ' +
  'mkdir -p /etc/codex; for f in "$0"/files/*; do [ -e "$f" ] && cp "$f" /etc/codex/; done; exec "$@"';

/** Files (name → content) to appear in /etc/codex for the processes run under the returned wrapper. */
export async function etcCodex(files: Record<string, string>): Promise<EtcCodex> {
  const dir = await mkdtemp(join(tmpdir(), 'etc-codex-'));
  await mkdir(join(dir, 'files'));
  for (const [name, text] of Object.entries(files)) await writeFile(join(dir, 'files', name), text);
  const remove = async () => {
    // overlayfs leaves work/work with mode 000: make it removable for a user who is not root.
    for (const run of await readdir(dir)) if (run.startsWith('run.')) await chmod(join(dir, run, 'work', 'work'), 0o700).catch(() => undefined);
    await rm(dir, { recursive: true, force: true });
  };
  return { wrapper: ['unshare', '-rm', 'sh', '-c', SCRIPT, dir], remove };
}

/** Throws, saying what is missing, when a private /etc/codex cannot be made here. */
export async function requireEtcCodexNamespace(): Promise<void> {
  const probe = await etcCodex({ 'probe.toml': 'x = 1\n' });
  try {
    const run = spawnSync(probe.wrapper[0]!, [...probe.wrapper.slice(1), 'cat', '/etc/codex/probe.toml'], { encoding: 'utf8' });
    if (run.error || run.status !== 0 || run.stdout !== 'x = 1\n') {
      throw new Error(
        `a private /etc/codex could not be made (unshare -rm with an overlay over /etc): ${run.error?.message ?? run.stderr.trim()}; ` +
          'these tests need util-linux unshare and unprivileged user namespaces with overlayfs (Linux 5.11+)',
      );
    }
  } finally {
    await probe.remove();
  }
}
