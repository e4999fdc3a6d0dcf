/**
 * The login worker: one long-lived thread that hosts the OAuth callback servers and does the
 * token exchanges, so neither ever runs on the main thread. Driven through comlink.
 */
import { parentPort } from 'node:worker_threads';
import * as Comlink from 'comlink';
import nodeEndpoint from 'comlink/dist/esm/node-adapter.mjs';
import { BrowserLogin } from '../src/login/browser-login.js';
import { StartBrowserLoginSchema, type LoginWorkerApi } from '../src/protocol/login.js';

const logins = new Map<string, BrowserLogin>();

const api: LoginWorkerApi = {
  async startBrowserLogin(request, onEvent) {
    const login = new BrowserLogin(StartBrowserLoginSchema.parse(request), onEvent);
    const started = await login.start();
    if (started.ok) {
      logins.set(login.loginId, login);
      login.onClosed(() => logins.delete(login.loginId));
    }
    return started;
  },

  async cancel(loginId, reason) {
    const login = logins.get(loginId);
    if (!login) return false;
    await login.cancel(reason);
    return true;
  },

  async stop() {
    await Promise.all([...logins.values()].map((login) => login.cancel('cancelled')));
  },
};

Comlink.expose(api, nodeEndpoint(parentPort!));
