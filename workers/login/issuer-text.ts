/**
 * Text that an issuer chose (an OAuth `error_description` or `error` on the callback, an error
 * code in a token-endpoint body) on its way into a completion notification, which a client shows
 * and a model reads. It is bounded and reduced to one line of plain words: no control or
 * invisible formatting characters (newlines, ANSI escapes, bidi overrides), no tags, no link
 * targets. Enough remains to tell a person what went wrong; nothing remains to dress it up.
 */

/** The longest issuer-supplied text a notification carries (code points, before the ellipsis). */
export const ISSUER_TEXT_MAX_CHARS = 200;
/** RFC 6749 error codes are short ASCII words; anything longer is not one. */
export const OAUTH_ERROR_CODE_MAX_CHARS = 64;

const CONTROL_OR_INVISIBLE = /[\p{Cc}\p{Cf}\p{Zl}\p{Zp}]/gu;
const TAG = /<[^<>]*>/g;
/** Markdown links and images: keep the words, drop where they point. */
const MARKDOWN_LINK = /!?\[([^[\]]*)\]\([^)]*\)/g;
const MARKUP_CHARACTERS = /[<>`]/g;

export function sanitizeIssuerText(text: string, maxChars = ISSUER_TEXT_MAX_CHARS): string {
  const plain = text
    .replace(CONTROL_OR_INVISIBLE, ' ')
    .replace(TAG, ' ')
    .replace(MARKDOWN_LINK, '$1')
    .replace(MARKUP_CHARACTERS, '')
    .replace(/\s+/g, ' ')
    .trim();
  const chars = [...plain];
  return chars.length <= maxChars ? plain : `${chars.slice(0, maxChars).join('').trimEnd()}…`;
}

/** An OAuth error code as the spec allows it (printable ASCII, no quote or backslash), bounded; '' if nothing is left. */
export function sanitizeOAuthErrorCode(code: string): string {
  return sanitizeIssuerText(code.replace(/[^\x20-\x21\x23-\x5b\x5d-\x7e]/g, ' '), OAUTH_ERROR_CODE_MAX_CHARS);
}
