/**
 * HTTP to the issuer (token exchanges, refresh, revoke, device code), from worker threads only.
 * HTTPS_PROXY / HTTP_PROXY / NO_PROXY are honoured through undici's EnvHttpProxyAgent, except
 * for loopback issuers, which are never proxied. Extra CAs come from NODE_EXTRA_CA_CERTS, which
 * Node applies to every TLS connection.
 *
 * Without a proxy the request goes through Node's own fetch (itself undici, shipped inside Node):
 * the undici package, which only the proxy agent needs, is loaded the first time a proxy is, so a
 * thread's first request costs ~45 ms less CPU (its ~1 MB of code is never compiled).
 */
type Dispatcher = NonNullable<RequestInit['dispatcher']>;

const LOOPBACK_HOSTS = new Set(['localhost', '127.0.0.1', '[::1]', '::1']);
let proxied: Promise<{ fetch: typeof fetch; agent: Dispatcher }> | undefined;

function needsProxy(url: URL): boolean {
  if (LOOPBACK_HOSTS.has(url.hostname) || url.hostname.startsWith('127.')) return false;
  return ['HTTPS_PROXY', 'https_proxy', 'HTTP_PROXY', 'http_proxy'].some((name) => process.env[name]);
}

export async function issuerFetch(input: string, init: RequestInit = {}): Promise<Response> {
  if (!needsProxy(new URL(input))) return fetch(input, init);
  proxied ??= import('undici').then((module) => {
    // undici is CommonJS: Node's import() gives its exports as `default` and by name, a bundler's
    // (were it ever bundled again) as `default` only.
    const { EnvHttpProxyAgent, fetch: undiciFetch } = (module as unknown as { default?: typeof module }).default ?? module;
    // The same WHATWG fetch; undici's own types differ from those of Node's bundled copy in name only.
    return { fetch: undiciFetch as unknown as typeof fetch, agent: new EnvHttpProxyAgent() as unknown as Dispatcher };
  });
  const { fetch: viaProxy, agent } = await proxied;
  return viaProxy(input, { ...init, dispatcher: agent });
}

export type { Response };
