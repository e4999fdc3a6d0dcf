/**
 * Text that an issuer chose (an OAuth `error_description` on the callback; error codes are shown
 * only by name, workers/shared/oauth-error-codes.ts) on its way into a completion notification, which a client shows
 * and a model reads. It is bounded and reduced to one line of plain words: no control or
 * invisible formatting characters (newlines, ANSI escapes, bidi overrides), no tags, no link
 * targets, no piece of a secret the sender knew and nothing shaped like a token. Enough remains
 * to tell a person what went wrong; nothing remains to dress it up or to leak a secret through.
 */

/** The longest issuer-supplied text a notification carries (code points, before the ellipsis). */
export const ISSUER_TEXT_MAX_CHARS = 200;
/** How much of the text is looked at at all: enough for any real description, and a bound on the work. */
const ISSUER_TEXT_READ_CHARS = 4_000;
/**
 * A run of token characters this long is a token, a key or an encoded blob, not a word a person
 * needs (the state is 43, the PKCE verifier 86, a JWT hundreds): it is cut out.
 */
const TOKEN_LIKE = /[A-Za-z0-9_~+/=.%-]{32,}/g;
/** Any run of this many characters of a secret we know is taken out, so no piece of it is shown. */
const SECRET_PIECE_CHARS = 8;

const CONTROL_OR_INVISIBLE = /[\p{Cc}\p{Cf}\p{Zl}\p{Zp}]/gu;
const TAG = /<[^<>]*>/g;
/** Markdown links and images: keep the words, drop where they point. */
const MARKDOWN_LINK = /!?\[([^[\]]*)\]\([^)]*\)/g;
const MARKUP_CHARACTERS = /[<>`]/g;

/**
 * `secrets` are what the sender of the text could know and must never see again in an answer
 * (the state, the PKCE challenge and verifier): every piece of them is cut out, as is anything
 * shaped like a token.
 */
export function sanitizeIssuerText(text: string, secrets: readonly string[] = [], maxChars = ISSUER_TEXT_MAX_CHARS): string {
  const plain = withoutSecretPieces(
    text
      .slice(0, ISSUER_TEXT_READ_CHARS)
      .replace(CONTROL_OR_INVISIBLE, ' ')
      .replace(TAG, ' ')
      .replace(MARKDOWN_LINK, '$1')
      .replace(MARKUP_CHARACTERS, ''),
    secrets,
  )
    .replace(TOKEN_LIKE, '…')
    .replace(/\s+/g, ' ')
    .trim();
  const chars = [...plain];
  return chars.length <= maxChars ? plain : `${chars.slice(0, maxChars).join('').trimEnd()}…`;
}

/** Every character inside a run of SECRET_PIECE_CHARS that also occurs in a secret becomes part of one '…'. */
function withoutSecretPieces(text: string, secrets: readonly string[]): string {
  const pieces = new Set<string>();
  for (const secret of secrets) {
    for (let i = 0; i + SECRET_PIECE_CHARS <= secret.length; i++) pieces.add(secret.slice(i, i + SECRET_PIECE_CHARS));
  }
  if (pieces.size === 0) return text;
  const cut = new Uint8Array(text.length);
  for (let i = 0; i + SECRET_PIECE_CHARS <= text.length; i++) {
    if (pieces.has(text.slice(i, i + SECRET_PIECE_CHARS))) cut.fill(1, i, i + SECRET_PIECE_CHARS);
  }
  let out = '';
  for (let i = 0; i < text.length; i++) {
    if (!cut[i]) out += text[i];
    else if (i === 0 || !cut[i - 1]) out += '…';
  }
  return out;
}
