/**
 * The Secret Service entry exactly as Codex 0.171 writes it on Linux (its keyring-rs 3.6): the
 * attributes `application=rust-keyring`, `service`, `target=default`, `username`, and the label
 * `<username>@<service>:default (keyring v3.6.3)` (read off 0.171's own item in
 * test/codex-0171-keyring.test.ts). @napi-rs/keyring can set neither the label nor `application`,
 * so an entry it wrote and one 0.171 wrote were two items for one account. Here libsecret (the
 * Secret Service client library every Linux desktop has) is called through koffi:
 *
 *  - get: 0.171's item if there is one, else an older item of ours (service and username only),
 *    which is then adopted: written as 0.171's, the old one removed;
 *  - set: 0.171's item is written (replacing it in place), then older items of ours are removed —
 *    in this order, so that a crash in between leaves a copy, never none;
 *  - delete: every item of the account, whoever wrote it.
 *
 * Without libsecret (`load` answers undefined) the helper uses @napi-rs/keyring as before.
 * Runs in the keyring helper process only (workers/keyring/main.ts).
 */
import { createRequire } from 'node:module';

type Koffi = typeof import('koffi');
type Fn = (...args: unknown[]) => any;

const APPLICATION = 'rust-keyring';
const TARGET = 'default';
const ATTRIBUTES = ['application', 'service', 'target', 'username'];
/** SECRET_SCHEMA_DONT_MATCH_NAME: match on the attributes only, whatever schema wrote the item. */
const DONT_MATCH_NAME = 1 << 1;
/** SECRET_SEARCH_ALL */
const SEARCH_ALL = 1 << 1;

export const codexLabel = (service: string, account: string) => `${account}@${service}:${TARGET} (keyring v3.6.3)`;

export interface SecretServiceEntry {
  get(): string | null;
  set(value: string): void;
  remove(): boolean;
}

interface Api {
  koffi: Koffi;
  schema: unknown;
  store: Fn;
  lookup: Fn;
  clear: Fn;
  search: Fn;
  getAttributes: Fn;
  hashLookup: Fn;
  hashUnref: Fn;
  deleteItem: Fn;
  objectUnref: Fn;
  listFree: Fn;
  free: Fn;
  GList: unknown;
}

let api: Api | null | undefined;

/** libsecret through koffi, or undefined when this machine has no libsecret (or no koffi build). */
function load(): Api | undefined {
  if (api !== undefined) return api ?? undefined;
  try {
    const koffi = createRequire(import.meta.url)('koffi') as Koffi;
    const secret = koffi.load('libsecret-1.so.0');
    const glib = koffi.load('libglib-2.0.so.0');
    const gobject = koffi.load('libgobject-2.0.so.0');
    const Attribute = koffi.struct('CodexAuthSecretSchemaAttribute', { name: 'const char *', type: 'int' });
    const Schema = koffi.struct('CodexAuthSecretSchema', {
      name: 'const char *', flags: 'int', attributes: koffi.array(Attribute, 32), reserved: 'int',
      r1: 'void *', r2: 'void *', r3: 'void *', r4: 'void *', r5: 'void *', r6: 'void *', r7: 'void *',
    });
    koffi.struct('CodexAuthGError', { domain: 'uint32', code: 'int', message: 'const char *' });
    const GList = koffi.struct('CodexAuthGList', { data: 'void *', next: 'void *', prev: 'void *' });
    const attributes = Array.from({ length: 32 }, (_, i) => ({ name: ATTRIBUTES[i] ?? null, type: 0 }));
    api = {
      koffi,
      schema: { name: 'org.freedesktop.Secret.Generic', flags: DONT_MATCH_NAME, attributes, reserved: 0, r1: null, r2: null, r3: null, r4: null, r5: null, r6: null, r7: null },
      store: secret.func('bool secret_password_store_sync(const CodexAuthSecretSchema *schema, const char *collection, const char *label, const char *password, void *cancellable, _Out_ CodexAuthGError **error, ...)'),
      lookup: secret.func('void *secret_password_lookup_sync(const CodexAuthSecretSchema *schema, void *cancellable, _Out_ CodexAuthGError **error, ...)'),
      clear: secret.func('bool secret_password_clear_sync(const CodexAuthSecretSchema *schema, void *cancellable, _Out_ CodexAuthGError **error, ...)'),
      search: secret.func('void *secret_password_search_sync(const CodexAuthSecretSchema *schema, int flags, void *cancellable, _Out_ CodexAuthGError **error, ...)'),
      getAttributes: secret.func('void *secret_retrievable_get_attributes(void *retrievable)'),
      deleteItem: secret.func('bool secret_item_delete_sync(void *item, void *cancellable, _Out_ CodexAuthGError **error)'),
      free: secret.func('void secret_password_free(void *password)'),
      hashLookup: glib.func('const char *g_hash_table_lookup(void *table, const char *key)'),
      hashUnref: glib.func('void g_hash_table_unref(void *table)'),
      listFree: glib.func('void g_list_free(void *list)'),
      objectUnref: gobject.func('void g_object_unref(void *object)'),
      GList,
    };
    void Schema;
    return api;
  } catch {
    api = null;
    return undefined;
  }
}

const S = 'const char *';
/** Variadic attribute arguments, NULL-terminated, as libsecret takes them. */
const varargs = (attributes: Record<string, string>) => [...Object.entries(attributes).flatMap(([name, value]) => [S, name, S, value]), S, null];

/** Throws the GError's message (its first line) when one was set. */
function check(error: ({ message?: string } | null)[]): void {
  const set = error[0];
  if (set) throw new Error(String(set.message ?? 'Secret Service error').split('\n')[0]);
}

/** The Secret Service entry for one account, as 0.171 keeps it; undefined without libsecret. */
export function secretServiceEntry(service: string, account: string): SecretServiceEntry | undefined {
  const lib = load();
  if (!lib) return undefined;
  const codex = { application: APPLICATION, service, target: TARGET, username: account };
  const any = { service, username: account };

  const lookup = (attributes: Record<string, string>): string | null => {
    const error: ({ message?: string } | null)[] = [null];
    const pointer = lib.lookup(lib.schema, null, error, ...varargs(attributes));
    check(error);
    if (!pointer) return null;
    try {
      return lib.koffi.decode(pointer, 'char', -1) as string;
    } finally {
      lib.free(pointer);
    }
  };
  const store = (value: string) => {
    const error: ({ message?: string } | null)[] = [null];
    const stored = lib.store(lib.schema, 'default', codexLabel(service, account), value, null, error, ...varargs(codex));
    check(error);
    if (!stored) throw new Error('the Secret Service did not store the entry');
  };
  /** Removes the account's items that are not 0.171's (written by an older version of ours). */
  const removeOlderItems = () => {
    const error: ({ message?: string } | null)[] = [null];
    const list = lib.search(lib.schema, SEARCH_ALL, null, error, ...varargs(any));
    check(error);
    let node = list;
    try {
      while (node) {
        const { data, next } = lib.koffi.decode(node, lib.GList as never) as { data: unknown; next: unknown };
        const table = lib.getAttributes(data);
        const application = table ? lib.hashLookup(table, 'application') : null;
        if (table) lib.hashUnref(table);
        if (application !== APPLICATION) {
          const failed: ({ message?: string } | null)[] = [null];
          lib.deleteItem(data, null, failed);
          check(failed);
        }
        lib.objectUnref(data);
        node = next;
      }
    } finally {
      if (list) lib.listFree(list);
    }
  };

  return {
    get() {
      const current = lookup(codex);
      if (current !== null) return current;
      const older = lookup(any);
      if (older !== null) {
        // Adopted once: from now on there is one item, 0.171's, whoever writes next. Best effort:
        // the value was read either way, and the next save tries again.
        try {
          store(older);
          removeOlderItems();
        } catch {
          // a locked or read-only collection: the older item stays readable as it is
        }
      }
      return older;
    },
    set(value) {
      store(value);
      // The value is stored; an older item that cannot be removed (locked) is never read before
      // 0.171's, so it costs nothing but its presence until the next save removes it.
      try {
        removeOlderItems();
      } catch {
        // left for the next save
      }
    },
    remove() {
      const error: ({ message?: string } | null)[] = [null];
      const existed = lookup(any) !== null;
      lib.clear(lib.schema, null, error, ...varargs(any));
      check(error);
      return existed;
    },
  };
}
