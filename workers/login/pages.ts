/** The few HTML pages the login worker's callback server shows a person. Everything reflected is escaped. */

export const escapeHtml = (text: string) =>
  text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);

const page = (title: string, body: string) =>
  `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>${escapeHtml(title)}</title>` +
  `<style>body{font-family:system-ui,sans-serif;max-width:36rem;margin:4rem auto;padding:0 1rem;color:#222}</style>` +
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
