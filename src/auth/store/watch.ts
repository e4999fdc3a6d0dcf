/**
 * Noticing changes to the stored credentials made by anyone (this process, a sibling server,
 * Codex): CODEX_HOME's events for the file backend, and for the keyring backends those plus a
 * periodic look at the entry. Memory storage watches its own version word (memory.ts).
 * Runs on the main thread, which watches (AuthState); the workers never watch.
 */
import { watch as watchDirectory, type FSWatcher } from 'node:fs';
import { stat } from 'node:fs/promises';
import { basename } from 'node:path';
import { AUTH_FILE_NAME } from './auth-file.js';
import type { KeyringEntry } from './keyring-entry.js';
import { COMMIT_LOCK_NAME } from './locks.js';
import { fingerprintOf } from './record.js';

/**
 * The OS keyring sends no change events. Writers of this server touch `auth.json.lock` after a
 * keyring write, which is an event in CODEX_HOME; other programs' changes (codex itself) are found
 * by reading the entry this often (one helper process per look: ~70 ms of CPU).
 */
export const KEYRING_POLL_MS = 15_000;
/** While CODEX_HOME does not exist yet, how often to look for it. */
const HOME_POLL_MS = 100;

/**
 * Keyring storage: auth.json and the lock's events in CODEX_HOME, plus a look at the keyring
 * entry every `pollMs` (KEYRING_POLL_MS unless `keyring_poll_secs` says otherwise) that calls `onChange` when what it holds differs from the last look
 * (the first look always does). The look runs in a helper process like every keyring call, so
 * this thread only starts it; a look still under way (a hung keyring) is not doubled.
 */
export function watchKeyring(entry: KeyringEntry, codexHome: string, onChange: () => void, pollMs = KEYRING_POLL_MS): () => void {
  const stopFiles = watchCodexHome(codexHome, onChange, true);
  let last: string | undefined;
  let looking = false;
  let stopped = false;
  const look = async () => {
    if (looking || stopped) return;
    looking = true;
    const answer = await entry.get();
    looking = false;
    const seen = !answer.ok ? 'unavailable' : answer.value == null ? 'none' : fingerprintOf(answer.value);
    if (stopped || seen === last) return;
    last = seen;
    onChange();
  };
  void look();
  const poll = setInterval(() => void look(), pollMs);
  poll.unref();
  return () => {
    stopped = true;
    clearInterval(poll);
    stopFiles();
  };
}

/**
 * Watches CODEX_HOME for changes to auth.json and, with `lock`, for the touch of `auth.json.lock`
 * that follows a keyring write of ours; waits for the directory to appear if it does not exist yet.
 */
export function watchCodexHome(codexHome: string, onChange: () => void, lock = false): () => void {
  let stopped = false;
  let watcher: FSWatcher | undefined;
  let homePoll: NodeJS.Timeout | undefined;
  const homeName = basename(codexHome);

  const start = () => {
    try {
      watcher = watchDirectory(codexHome, { persistent: false }, (_event, name) => {
        // A chmod or chown of CODEX_HOME itself comes as its own name: whether what it holds may
        // be read at all (private-folder.ts) may have changed.
        if (name === null || name === AUTH_FILE_NAME || name === homeName || (lock && name === COMMIT_LOCK_NAME)) onChange();
      });
      watcher.on('error', waitForHome);
    } catch {
      waitForHome();
    }
  };
  // CODEX_HOME is missing (or went away): look for it until it exists, then watch it.
  function waitForHome() {
    watcher?.close();
    watcher = undefined;
    if (stopped || homePoll) return;
    homePoll = setInterval(() => {
      stat(codexHome).then(
        () => {
          if (stopped || !homePoll) return;
          clearInterval(homePoll);
          homePoll = undefined;
          start();
          onChange();
        },
        () => undefined,
      );
    }, HOME_POLL_MS);
    homePoll.unref();
  }

  start();
  return () => {
    stopped = true;
    watcher?.close();
    clearInterval(homePoll);
  };
}
