/**
 * Signs in at the embedded issuer with plain HTTP, the way a browser would (cookies, redirects,
 * the login and consent forms), and returns the callback URL the issuer redirects to. The demo
 * uses it when nobody is there to click, and tests use it when they need no real browser.
 */
export async function signInAtIssuer(authUrl: string, email = 'demo@example.com'): Promise<string> {
  const cookies = new Map<string, string>();
  let url = authUrl;
  let method: 'GET' | 'POST' = 'GET';
  let body: URLSearchParams | undefined;
  for (let step = 0; step < 20; step++) {
    const response = await fetch(url, {
      method,
      redirect: 'manual',
      headers: {
        cookie: [...cookies].map(([k, v]) => `${k}=${v}`).join('; '),
        ...(body && { 'content-type': 'application/x-www-form-urlencoded' }),
      },
      ...(body && { body }),
    });
    for (const header of response.headers.getSetCookie()) {
      const [pair] = header.split(';');
      const eq = pair!.indexOf('=');
      cookies.set(pair!.slice(0, eq), pair!.slice(eq + 1));
    }
    const location = response.headers.get('location');
    if (location) {
      const next = new URL(location, url).href;
      // the client's loopback callback: http://localhost:1455/… (older codex, codex-auth-mcp) or
      // http://127.0.0.1:1455/… (codex 0.171); the issuer itself may also live on 127.0.0.1
      if (new URL(next).pathname === '/auth/callback') return next;
      [url, method, body] = [next, 'GET', undefined];
      continue;
    }
    const html = await response.text();
    const action = /<form[^>]*action="([^"]+)"/.exec(html)?.[1];
    if (!action) throw new Error(`issuer page without a form (status ${response.status}): ${html.slice(0, 300)}`);
    const prompt = /name="prompt" value="([^"]+)"/.exec(html)?.[1];
    body = new URLSearchParams(prompt === 'login' ? { prompt, login: email, password: 'demo' } : { prompt: prompt ?? 'consent' });
    [url, method] = [new URL(action.replace(/&amp;/g, '&'), url).href, 'POST'];
  }
  throw new Error('too many steps signing in at the issuer');
}
