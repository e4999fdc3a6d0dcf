/**
 * The environment that makes a server (and the keyring helpers it starts, which inherit it) use
 * the fake keyring of fake-keyring.ts with the given behaviour, its entries in `dir`.
 */
export const FAKE_KEYRING_PRELOAD = `--import=${new URL('./fake-keyring-hooks.js', import.meta.url).href}`;

export const fakeKeyringEnv = (behaviour: 'memory' | 'hang' | 'fail' | 'flood', dir: string) => ({ NODE_OPTIONS: FAKE_KEYRING_PRELOAD, FAKE_KEYRING: behaviour, FAKE_KEYRING_DIR: dir });
