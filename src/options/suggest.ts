/** Edit distance (insertions, deletions, substitutions, adjacent swaps) between two short words. */
export function editDistance(a: string, b: string): number {
  const d: number[][] = Array.from({ length: a.length + 1 }, (_, i) =>
    Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)),
  );
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let best = Math.min(d[i - 1]![j]! + 1, d[i]![j - 1]! + 1, d[i - 1]![j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1])
        best = Math.min(best, d[i - 2]![j - 2]! + 1);
      d[i]![j] = best;
    }
  }
  return d[a.length]![b.length]!;
}

/**
 * The known names closest to `given` (a typo, a missing or extra word part, a name used by another
 * command): up to three, nearest first; none when nothing is close. A known name that starts with the
 * given one (`run` → `run-id`) or ends with it counts as close.
 */
export function closest(given: string, known: readonly string[]): string[] {
  const g = given.toLowerCase();
  const scored = [...new Set(known)]
    .map((k) => {
      const name = k.toLowerCase();
      const distance = editDistance(g, name);
      const affix = g.length >= 3 && (name.startsWith(`${g}-`) || name.endsWith(`-${g}`) || g.startsWith(`${name}-`));
      return { k, score: affix ? Math.min(distance, 1.5) : distance };
    })
    .filter((s) => s.score <= Math.max(2, Math.floor(g.length / 3)))
    .sort((x, y) => x.score - y.score || x.k.localeCompare(y.k));
  return scored.slice(0, 3).map((s) => s.k);
}

/** "did you mean --a or --b?" for a hint, or undefined when nothing is close. */
export function didYouMean(given: string, known: readonly string[], prefix = ''): string | undefined {
  const near = closest(given, known);
  if (near.length === 0) return undefined;
  const names = near.map((n) => `${prefix}${n}`);
  return `did you mean ${names.length === 1 ? names[0] : `${names.slice(0, -1).join(', ')} or ${names.at(-1)}`}?`;
}
