/**
 * "Did you mean …?": the known name a mistyped one most likely stands for, by edit distance
 * (fastest-levenshtein). Close means at most 2 edits, and no more than a third of the length,
 * so short unrelated names never match each other.
 */
import { distance } from 'fastest-levenshtein';

export function nearMiss(name: string, known: readonly string[]): string | undefined {
  let best: { name: string; edits: number } | undefined;
  for (const candidate of known) {
    const edits = distance(name, candidate);
    if (edits === 0) return undefined; // not a miss at all
    if (edits <= 2 && edits * 3 <= Math.max(name.length, candidate.length) && (!best || edits < best.edits)) best = { name: candidate, edits };
  }
  return best?.name;
}
