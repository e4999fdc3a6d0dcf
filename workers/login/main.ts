/**
 * The login worker: one long-lived thread that hosts the OAuth callback servers and does the
 * token exchanges, so neither ever runs on the main thread. Driven through comlink.
 */
import { parentPort } from 'node:worker_threads';
import * as Comlink from 'comlink';
import nodeEndpoint from 'comlink/dist/esm/node-adapter.mjs';
import { BrowserLogin } from './browser-login.js';
import { DeviceLogin } from './device-login.js';
import { StartBrowserLoginSchema, StartDeviceLoginSchema, type LoginWorkerApi } from '../../src/protocol/login.js';

/** Running logins of either kind, by loginId. */
const logins = new Map<string, BrowserLogin | DeviceLogin>();

function track(login: BrowserLogin | DeviceLogin): void {
  logins.set(login.loginId, login);
  login.onClosed(() => logins.delete(login.loginId));
}

const api: LoginWorkerApi = {
  async startBrowserLogin(request, onEvent) {
    const login = new BrowserLogin(StartBrowserLoginSchema.parse(request), onEvent);
    const started = await login.start();
    if (started.ok) track(login);
    return started;
  },

  async startDeviceLogin(request, onEvent) {
    const login = new DeviceLogin(StartDeviceLoginSchema.parse(request), onEvent);
    track(login); // tracked before start(): polling begins inside it
    const started = await login.start();
    if (!started.ok) logins.delete(login.loginId);
    return started;
  },

  async cancel(loginId, reason) {
    const login = logins.get(loginId);
    if (!login) return false;
    await login.cancel(reason);
    return true;
  },

  async stop() {
    await Promise.all(
      [...logins.values()].map(async (login) => {
        await login.cancel('cancelled');
        // Not terminated in the middle of a lock wait or a write: those finish promptly now.
        await login.drained();
      }),
    );
  },
};

Comlink.expose(api, nodeEndpoint(parentPort!));
