/**
 * The order a batch is written in: by key, as PostgreSQL orders the key columns (COLLATE "C":
 * UTF-8 bytes, that is code points), so that every batch takes its row locks in one global order
 * across all its chunks, and the records naming one key end up side by side.
 */

/** Records validated, encoded and handed to the database at a time, unless configured (VBAPI_BATCH_CHUNK_ROWS). */
export const DEFAULT_BATCH_CHUNK_ROWS = 500;

/** A UTF-16 code unit mapped so that plain comparison follows code points (surrogates above U+E000–U+FFFF). */
const codePointRank = (unit: number) => (unit >= 0xe000 ? unit - 0x800 : unit >= 0xd800 ? unit + 0x2000 : unit);

/** Compares two keys by code point, as COLLATE "C" does with their UTF-8 bytes. */
export function compareKeys(a: string, b: string): number {
  if (a === b) return 0;
  const length = Math.min(a.length, b.length);
  for (let index = 0; index < length; index++) {
    const left = a.charCodeAt(index);
    const right = b.charCodeAt(index);
    if (left !== right) return codePointRank(left) - codePointRank(right);
  }
  return a.length - b.length;
}

/**
 * Positions of `records` in write order: those without a text key first (they can only be invalid),
 * then by key, and by position among records of the same key (so the last one sent stays last).
 */
export function keyOrder(records: readonly unknown[], keyName: string): { order: number[]; keys: (string | null)[] } {
  const keys = records.map((record) => {
    const key = typeof record === 'object' && record !== null ? (record as Record<string, unknown>)[keyName] : undefined;
    return typeof key === 'string' ? key : null;
  });
  const order = records.map((_, index) => index);
  order.sort((a, b) => {
    const left = keys[a]!;
    const right = keys[b]!;
    if (left === null || right === null) return left === right ? a - b : left === null ? -1 : 1;
    return compareKeys(left, right) || a - b;
  });
  return { order, keys };
}

/**
 * `order` cut into chunks of about `size` positions; a chunk is extended to the end of its last
 * key's records, so every record of one key is in one chunk (the last valid one is the one stored).
 */
export function* chunksOf(order: readonly number[], keys: readonly (string | null)[], size: number): Generator<number[]> {
  let start = 0;
  while (start < order.length) {
    let end = Math.min(start + Math.max(1, size), order.length);
    const last = keys[order[end - 1]!];
    while (end < order.length && last !== null && keys[order[end]!] === last) end++;
    yield order.slice(start, end);
    start = end;
  }
}
