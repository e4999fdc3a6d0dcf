/**
 * HTTP to the issuer (token exchanges, refresh, revoke, device code), from worker threads only.
 * HTTPS_PROXY / HTTP_PROXY / NO_PROXY are honoured through undici's EnvHttpProxyAgent, except
 * for loopback issuers, which are never proxied. Extra CAs come from NODE_EXTRA_CA_CERTS, which
 * Node applies to every TLS connection.
 */
import { EnvHttpProxyAgent, fetch as undiciFetch, type Dispatcher, type RequestInit, type Response } from 'undici';

const LOOPBACK_HOSTS = new Set(['localhost', '127.0.0.1', '[::1]', '::1']);
let proxyAgent: Dispatcher | undefined;

function dispatcherFor(url: URL): Dispatcher | undefined {
  if (LOOPBACK_HOSTS.has(url.hostname) || url.hostname.startsWith('127.')) return undefined;
  const proxied = ['HTTPS_PROXY', 'https_proxy', 'HTTP_PROXY', 'http_proxy'].some((name) => process.env[name]);
  if (!proxied) return undefined;
  proxyAgent ??= new EnvHttpProxyAgent();
  return proxyAgent;
}

export function issuerFetch(input: string, init: RequestInit = {}): Promise<Response> {
  const dispatcher = dispatcherFor(new URL(input));
  return undiciFetch(input, dispatcher ? { ...init, dispatcher } : init);
}

export type { Response };
