/**
 * Case equivalence of UTF-16 code units as a JavaScript regular expression with the `i` flag
 * and without `u` sees it, so that case-insensitive patterns can be rewritten into explicit
 * character classes (the linear-time engine refuses the `i` flag).
 *
 * @module
 */

interface Table {
  /** The other code units each cased code unit matches, itself included, ascending. */
  readonly groups: ReadonlyMap<number, readonly number[]>;
  /** Every cased code unit, ascending. */
  readonly cased: readonly number[];
}

let table: Table | undefined;

/**
 * The canonical form of ECMAScript's non-Unicode ignoreCase matching: the upper case when
 * that is one code unit, except that nothing outside ASCII becomes ASCII (`ſ` stays).
 */
function canonicalize(code: number): number {
  const upper = String.fromCharCode(code).toUpperCase();
  if (upper.length !== 1) return code;
  const result = upper.charCodeAt(0);
  return code >= 128 && result < 128 ? code : result;
}

function buildTable(): Table {
  // Calling toUpperCase on all 65,536 code units takes ~60 ms; the Unicode properties find
  // the ~2,400 that change under a case mapping in a few, and only those can share a
  // canonical form with another code unit.
  const chunks: string[] = [];
  for (let start = 0; start < 0x10000; start += 4096) {
    const codes = Array.from({ length: 4096 }, (_, i) => {
      const code = start + i;
      return code >= 0xd800 && code <= 0xdfff ? 0x20 : code;
    });
    chunks.push(String.fromCharCode(...codes));
  }
  const byCanonical = new Map<number, number[]>();
  const changing = /[\p{Changes_When_Uppercased}\p{Changes_When_Lowercased}]/gu;
  for (const match of chunks.join("").matchAll(changing)) {
    const code = match[0].charCodeAt(0);
    for (const member of [code, canonicalize(code)]) {
      const key = canonicalize(member);
      const group = byCanonical.get(key) ?? [];
      if (!group.includes(member)) group.push(member);
      byCanonical.set(key, group);
    }
  }
  const groups = new Map<number, readonly number[]>();
  for (const group of byCanonical.values()) {
    if (group.length < 2) continue;
    group.sort((a, b) => a - b);
    for (const code of group) groups.set(code, group);
  }
  return { groups, cased: [...groups.keys()].sort((a, b) => a - b) };
}

function loaded(): Table {
  return table ??= buildTable();
}

/**
 * The code units that `code` matches case-insensitively, itself included, in ascending
 * order; undefined when it matches only itself.
 */
export function caseVariants(code: number): readonly number[] | undefined {
  return loaded().groups.get(code);
}

/** The code units from `from` to `to` (inclusive) that have other case variants, ascending. */
export function casedInRange(from: number, to: number): number[] {
  const { cased } = loaded();
  let low = 0;
  let high = cased.length;
  while (low < high) {
    const middle = (low + high) >>> 1;
    if (cased[middle]! < from) low = middle + 1;
    else high = middle;
  }
  const result: number[] = [];
  for (let i = low; i < cased.length && cased[i]! <= to; i++) result.push(cased[i]!);
  return result;
}
