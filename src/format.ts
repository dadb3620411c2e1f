/** A count as every report writes it: whole, with thousands separators (12,500). */
export function count(x: number): string {
  return Math.round(x).toLocaleString('en-US');
}
