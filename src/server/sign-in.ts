/**
 * The sign-in actions every front end shares (v1 methods, the v2 account API, the MCP tools and
 * the CLI): policy checks, then the login engine or the store.
 */
import { apiKeyRecord } from '../auth/auth-record.js';
import type { Config } from '../config/schema.js';
import { invalidRequest } from '../protocol/jsonrpc.js';
import type { AuthSnapshot } from '../protocol/snapshot.js';
import type { ServerContext } from './context.js';

/** RFC 8628 §5.4: entering a code someone else started is how device-code phishing works. */
export const DEVICE_CODE_WARNING = 'Never enter a code you did not start yourself: device codes are a common phishing target.';

/** `forced_login_method` refuses the other way of signing in, with codex's messages. */
export function assertLoginAllowed(config: Config, method: 'api' | 'chatgpt'): void {
  if (config.forced_login_method === 'chatgpt' && method === 'api') {
    throw invalidRequest('API key login is disabled. Use ChatGPT login instead.');
  }
  if (config.forced_login_method === 'api' && method === 'chatgpt') {
    throw invalidRequest('ChatGPT login is disabled. Use API key login instead.');
  }
}

/** Stores an API key as the credentials (cancelling any pending login) and returns the new state. */
export async function signInWithApiKey(context: ServerContext, apiKey: string): Promise<AuthSnapshot> {
  assertLoginAllowed(context.config, 'api');
  await context.logins.cancelActive();
  const { store } = context;
  return context.auth.mutate(() => store.withLock(() => store.save(apiKeyRecord(apiKey))));
}

export function startChatGptSignIn(context: ServerContext) {
  assertLoginAllowed(context.config, 'chatgpt');
  return context.logins.startChatGpt();
}

export function startDeviceCodeSignIn(context: ServerContext) {
  assertLoginAllowed(context.config, 'chatgpt');
  return context.logins.startDeviceCode();
}
