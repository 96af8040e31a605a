/**
 * Which elements of `a` and `b` lie outside one longest common subsequence (E. Myers, "An O(ND) Difference
 * Algorithm and Its Variations", 1986), as two masks (1 = removed from a / added in b). The common prefix and suffix
 * are taken first; `undefined` when more than `limit` elements differ (the caller then treats everything as changed).
 */
export function changedElements(a: Int32Array, b: Int32Array, limit: number): { a: Uint8Array; b: Uint8Array } | undefined {
  const removed = new Uint8Array(a.length);
  const added = new Uint8Array(b.length);
  let lo = 0;
  while (lo < a.length && lo < b.length && a[lo] === b[lo]) lo++;
  let hiA = a.length;
  let hiB = b.length;
  while (hiA > lo && hiB > lo && a[hiA - 1] === b[hiB - 1]) hiA--, hiB--;
  const n = hiA - lo;
  const m = hiB - lo;
  if (n === 0 || m === 0) {
    removed.fill(1, lo, hiA);
    added.fill(1, lo, hiB);
    return n + m > limit ? undefined : { a: removed, b: added };
  }
  const max = Math.min(n + m, limit);
  // v[k + offset] = the furthest x on diagonal k; one saved copy per edit count for the way back.
  const offset = max + 1;
  const v = new Int32Array(2 * max + 3);
  const trace: Int32Array[] = [];
  let found = -1;
  for (let d = 0; d <= max && found < 0; d++) {
    trace.push(v.slice(offset - d - 1, offset + d + 2));
    for (let k = -d; k <= d; k += 2) {
      let x = k === -d || (k !== d && v[offset + k - 1]! < v[offset + k + 1]!) ? v[offset + k + 1]! : v[offset + k - 1]! + 1;
      let y = x - k;
      while (x < n && y < m && a[lo + x] === b[lo + y]) x++, y++;
      v[offset + k] = x;
      if (x >= n && y >= m) {
        found = d;
        break;
      }
    }
  }
  if (found < 0) return undefined;
  // Walk back from (n, m): each round ends in a run of equal elements after one insertion or deletion.
  let x = n;
  let y = m;
  for (let d = found; d > 0; d--) {
    const saved = trace[d]!; // v as it was before round d, indexed by k + d + 1
    const at = (k: number) => saved[k + d + 1]!;
    const k = x - y;
    const down = k === -d || (k !== d && at(k - 1) < at(k + 1));
    const prevK = down ? k + 1 : k - 1;
    const prevX = at(prevK);
    const prevY = prevX - prevK;
    if (down) added[lo + prevY] = 1;
    else removed[lo + prevX] = 1;
    x = prevX;
    y = prevY;
  }
  return { a: removed, b: added };
}
