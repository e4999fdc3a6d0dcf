/**
 * The `auto` backend: the keyring when it works, else auth.json, and `warning` says so. auth.json
 * is only written when the keyring failed and is removed after every keyring save, so when both
 * exist the file is the newer copy: it is used (reported) and moves to the keyring at the next
 * save (which-copy.ts decides). The frame is the keyring backend's (keyring.ts).
 * Runs on all three threads: main, login worker, token service.
 */
import { deleteAuthFile } from './auth-file.js';
import { keyringBackedStore } from './keyring.js';
import type { CredentialStore } from './credential-store.js';
import { chooseInAutoMode, warnings } from './which-copy.js';

export function autoStore(codexHome: string, pollMs?: number): CredentialStore {
  return keyringBackedStore(codexHome, pollMs, {
    choose: chooseInAutoMode,
    refusedSave: (reason, path) => warnings.autoFellBack(path, reason),
    async remove(entry) {
      // An unusable keyring cannot be emptied; the status keeps saying it is unusable.
      const [answer, removedFile] = await Promise.all([entry.remove(), deleteAuthFile(codexHome)]);
      return (answer.ok && answer.removed === true) || removedFile;
    },
  });
}
