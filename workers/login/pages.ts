/** The few HTML pages the login worker's callback server shows a person. Everything reflected is escaped. */
import { createHash } from 'node:crypto';

export const escapeHtml = (text: string) =>
  text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);

const STYLE = 'body{font-family:system-ui,sans-serif;max-width:36rem;margin:4rem auto;padding:0 1rem;color:#222}';

/**
 * Sent with every answer of the callback server: the pages run no script, load nothing, post no
 * form and may not be framed (a page of another site framing the callback could dress it up or
 * click through it). The one inline style is allowed by its hash, nothing else.
 */
export const PAGE_SECURITY_HEADERS = {
  'Content-Security-Policy': `default-src 'none'; style-src 'sha256-${createHash('sha256').update(STYLE).digest('base64')}'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'`,
  'X-Frame-Options': 'DENY',
} as const;

const page = (title: string, body: string) =>
  `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>${escapeHtml(title)}</title>` +
  `<style>${STYLE}</style>` +
  `</head><body><h1>${escapeHtml(title)}</h1>${body}</body></html>`;

export const successPage = () =>
  page('Signed in to Codex', '<p id="status">You are signed in. You may close this tab and return to your editor.</p>');

export const errorPage = (message: string) =>
  page('Sign-in failed', `<p id="status">${escapeHtml(message)}</p><p>Return to your editor and try again.</p>`);

/**
 * A callback for a sign-in that a newer one replaced (its state is not the one waiting here). The
 * person is told where to go on rather than shown a bare "State mismatch". `certain`: this worker
 * replaced that very sign-in; otherwise this listener took the port over from an older one.
 */
export const replacedPage = (certain: boolean) =>
  page(
    'This sign-in was replaced by a newer one',
    `<p id="status">${certain ? 'A newer sign-in was started after this one' : 'This link most likely belongs to a sign-in that a newer one replaced'}, so it can no longer complete here.</p>` +
      '<p>Finish signing in in the browser window (or with the URL) of the newer sign-in; this tab can be closed. To start again, run the sign-in once more.</p>',
  );
