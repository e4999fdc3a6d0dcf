/**
 * The states of browser sign-ins that a newer one replaced in this worker, so a late callback for
 * one of them (the person finished in the old window) is told so instead of "State mismatch".
 * Only the last few are kept: they matter for the minutes a person takes to notice.
 */
const KEPT = 16;
const replaced: string[] = [];

export function rememberReplaced(state: string): void {
  replaced.push(state);
  if (replaced.length > KEPT) replaced.shift();
}

export const wasReplaced = (state: string | null) => state !== null && replaced.includes(state);
