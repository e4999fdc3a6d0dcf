/** HTML escaping for the dev issuer's pages (dev/ takes nothing from workers/: they ship, this does not). */
export const escapeHtml = (text: string) =>
  text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
