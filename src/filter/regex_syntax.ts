/**
 * A parser for JavaScript regular expressions without the `u` or `v` flag (the syntax of
 * Annex B, as `new RegExp(source)` reads it), for what the engine will not tell: which
 * features a pattern uses, how large its compiled program grows, and the same pattern made
 * case-insensitive without the `i` flag.
 *
 * The parser expects a source the engine has accepted; it does not report syntax errors.
 *
 * @module
 */
import { casedInRange, caseVariants } from "./case_fold.ts";

/** Alternatives, each a sequence of terms. */
export type Alternatives = readonly (readonly RegexNode[])[];

/** One term of a pattern. */
export type RegexNode =
  /** A single code unit, written plainly or as an escape. */
  | { readonly type: "char"; readonly code: number; readonly source: string }
  /** `[...]` */
  | {
    readonly type: "class";
    readonly negated: boolean;
    readonly items: readonly ClassItem[];
    readonly source: string;
  }
  /** `.`, `\d`, `\D`, `\w`, `\W`, `\s`, `\S`. */
  | { readonly type: "set"; readonly source: string }
  /** `^`, `$`, `\b`, `\B`. */
  | { readonly type: "assertion"; readonly source: string }
  /** `\1`, `\k<name>`. */
  | { readonly type: "backreference"; readonly source: string }
  | {
    readonly type: "group";
    readonly kind: GroupKind;
    /** The opening text, e.g. `(?<name>` or `(?i-m:`. */
    readonly open: string;
    readonly body: Alternatives;
  }
  | {
    readonly type: "repeat";
    readonly body: RegexNode;
    readonly min: number;
    /** `Infinity` for `*`, `+` and `{n,}`. */
    readonly max: number;
    /** The quantifier text, e.g. `+?` or `{2,5}`. */
    readonly source: string;
  };

/** What a group does besides grouping. */
export type GroupKind = "capture" | "plain" | "lookahead" | "lookbehind" | "modifiers";

/** A member of a character class: a range (`from === to` for one code unit) or a set escape. */
export type ClassItem =
  | { readonly type: "range"; readonly from: number; readonly to: number }
  | { readonly type: "set"; readonly source: string };

const QUANTIFIER = /\{(\d+)(?:(,)(\d*))?\}\??|[*+?]\??/y;
const HEX2 = /[0-9A-Fa-f]{2}/y;
const HEX4 = /[0-9A-Fa-f]{4}/y;
const DIGITS = /\d+/y;
const FLAG_GROUP = /\(\?([ims]*)(?:-([ims]*))?:/y;
const SIMPLE_ESCAPES: Readonly<Record<string, number>> = { f: 12, n: 10, r: 13, t: 9, v: 11 };

/**
 * Parses `source`, a pattern that `new RegExp(source)` accepts, into its alternatives.
 * The result is unspecified for a source the engine refuses.
 */
export function parseRegex(source: string): Alternatives {
  // The number of capturing groups decides whether "\2" is a backreference or an octal
  // escape, and named groups whether "\k" is a reference; the engine knows both.
  const probe = new RegExp(`${source}|`).exec("")!;
  return new Parser(source, probe.length - 1, probe.groups !== undefined).parse();
}

class Parser {
  #at = 0;
  readonly #source: string;
  readonly #captures: number;
  readonly #named: boolean;

  constructor(source: string, captures: number, named: boolean) {
    this.#source = source;
    this.#captures = captures;
    this.#named = named;
  }

  parse(): Alternatives {
    const alternatives = this.#alternatives();
    if (this.#at < this.#source.length) {
      throw new SyntaxError(`Unexpected ${JSON.stringify(this.#source[this.#at])}`);
    }
    return alternatives;
  }

  #alternatives(): Alternatives {
    const alternatives: RegexNode[][] = [[]];
    while (this.#at < this.#source.length) {
      const char = this.#source[this.#at];
      if (char === ")") break;
      if (char === "|") {
        this.#at++;
        alternatives.push([]);
        continue;
      }
      alternatives.at(-1)!.push(this.#term());
    }
    return alternatives;
  }

  #term(): RegexNode {
    const atom = this.#atom();
    // Annex B lets lookaheads take a quantifier, not lookbehinds or other assertions.
    const quantifiable = atom.type !== "assertion" &&
      !(atom.type === "group" && atom.kind === "lookbehind");
    if (!quantifiable) return atom;
    QUANTIFIER.lastIndex = this.#at;
    const match = QUANTIFIER.exec(this.#source);
    if (match === null) return atom;
    this.#at = QUANTIFIER.lastIndex;
    const text = match[0];
    let min: number;
    let max: number;
    if (match[1] !== undefined) {
      min = Number(match[1]);
      max = match[2] === undefined ? min : match[3] === "" ? Infinity : Number(match[3]);
    } else {
      min = text[0] === "+" ? 1 : 0;
      max = text[0] === "?" ? 1 : Infinity;
    }
    return { type: "repeat", body: atom, min, max, source: text };
  }

  #atom(): RegexNode {
    const source = this.#source;
    const start = this.#at;
    const char = source[this.#at++]!;
    switch (char) {
      case "^":
      case "$":
        return { type: "assertion", source: char };
      case ".":
        return { type: "set", source: char };
      case "(":
        return this.#group(start);
      case "[":
        return this.#class(start);
      case "\\":
        return this.#escape(start);
      case "{": {
        // A "{" that does not start a valid quantifier is literal (Annex B).
        return { type: "char", code: 0x7b, source: char };
      }
      default:
        return { type: "char", code: char.charCodeAt(0), source: char };
    }
  }

  #group(start: number): RegexNode {
    const source = this.#source;
    let kind: GroupKind = "capture";
    if (source[this.#at] === "?") {
      const next = source[this.#at + 1];
      const after = source[this.#at + 2];
      if (next === ":") {
        kind = "plain";
        this.#at += 2;
      } else if (next === "=" || next === "!") {
        kind = "lookahead";
        this.#at += 2;
      } else if (next === "<" && (after === "=" || after === "!")) {
        kind = "lookbehind";
        this.#at += 3;
      } else if (next === "<") {
        this.#at = source.indexOf(">", this.#at) + 1;
      } else {
        FLAG_GROUP.lastIndex = start;
        if (!FLAG_GROUP.test(source)) throw new SyntaxError("Invalid group");
        kind = "modifiers";
        this.#at = FLAG_GROUP.lastIndex;
      }
    }
    const open = source.slice(start, this.#at);
    const body = this.#alternatives();
    if (source[this.#at] !== ")") throw new SyntaxError("Unterminated group");
    this.#at++;
    return { type: "group", kind, open, body };
  }

  #class(start: number): RegexNode {
    const source = this.#source;
    const negated = source[this.#at] === "^";
    if (negated) this.#at++;
    // Annex B: "a-z" is a range when both ends are single code units; with a set escape
    // at either end ("\\d-z") the "-" is one more member.
    const items: ClassItem[] = [];
    while (this.#at < source.length && source[this.#at] !== "]") {
      const first = this.#classAtom();
      if (
        source[this.#at] !== "-" || this.#at + 1 >= source.length || source[this.#at + 1] === "]"
      ) {
        items.push(first);
        continue;
      }
      this.#at++;
      const last = this.#classAtom();
      if (first.type === "range" && last.type === "range") {
        items.push({ type: "range", from: first.from, to: last.to });
      } else {
        items.push(first, { type: "range", from: 0x2d, to: 0x2d }, last);
      }
    }
    if (source[this.#at] !== "]") throw new SyntaxError("Unterminated character class");
    this.#at++;
    return { type: "class", negated, items, source: source.slice(start, this.#at) };
  }

  #classAtom(): ClassItem {
    const source = this.#source;
    const char = source[this.#at++]!;
    if (char !== "\\") {
      const code = char.charCodeAt(0);
      return { type: "range", from: code, to: code };
    }
    const escape = source[this.#at]!;
    if ("dDsSwW".includes(escape)) {
      this.#at++;
      return { type: "set", source: `\\${escape}` };
    }
    if (escape === "b") {
      this.#at++;
      return { type: "range", from: 8, to: 8 };
    }
    if (escape === "c") {
      // Inside a class, Annex B also takes digits and "_" as control letters.
      const letter = source[this.#at + 1];
      if (letter !== undefined && /[A-Za-z0-9_]/.test(letter)) {
        this.#at += 2;
        const code = letter.charCodeAt(0) % 32;
        return { type: "range", from: code, to: code };
      }
      return { type: "range", from: 0x5c, to: 0x5c };
    }
    const code = this.#characterEscape();
    return { type: "range", from: code, to: code };
  }

  #escape(start: number): RegexNode {
    const source = this.#source;
    const escape = source[this.#at]!;
    if ("dDsSwW".includes(escape)) {
      this.#at++;
      return { type: "set", source: `\\${escape}` };
    }
    if (escape === "b" || escape === "B") {
      this.#at++;
      return { type: "assertion", source: `\\${escape}` };
    }
    if (escape === "c") {
      const letter = source[this.#at + 1];
      if (letter !== undefined && /[A-Za-z]/.test(letter)) {
        this.#at += 2;
        return {
          type: "char",
          code: letter.charCodeAt(0) % 32,
          source: source.slice(start, this.#at),
        };
      }
      // Annex B: "\c" before anything else is a literal backslash; the "c" follows as itself.
      return { type: "char", code: 0x5c, source: "\\\\" };
    }
    if (escape === "k" && this.#named) {
      this.#at = source.indexOf(">", this.#at) + 1;
      return { type: "backreference", source: source.slice(start, this.#at) };
    }
    if (escape >= "1" && escape <= "9") {
      DIGITS.lastIndex = this.#at;
      const digits = DIGITS.exec(source)![0];
      if (Number(digits) <= this.#captures) {
        this.#at += digits.length;
        return { type: "backreference", source: source.slice(start, this.#at) };
      }
    }
    const code = this.#characterEscape();
    return { type: "char", code, source: source.slice(start, this.#at) };
  }

  /** The code unit of the escape after a backslash that is neither a set nor a reference. */
  #characterEscape(): number {
    const source = this.#source;
    const escape = source[this.#at++]!;
    const simple = SIMPLE_ESCAPES[escape];
    if (simple !== undefined) return simple;
    if (escape === "x" || escape === "u") {
      const hex = escape === "x" ? HEX2 : HEX4;
      hex.lastIndex = this.#at;
      const match = hex.exec(source);
      if (match !== null) {
        this.#at = hex.lastIndex;
        return parseInt(match[0], 16);
      }
      return escape.charCodeAt(0);
    }
    if (escape >= "0" && escape <= "7") {
      // Legacy octal: up to three digits while the value stays below 256 ("\0" is NUL).
      let value = escape.charCodeAt(0) - 48;
      for (let i = 0; i < 2; i++) {
        const digit = source.charCodeAt(this.#at) - 48;
        if (!(digit >= 0 && digit <= 7) || value * 8 + digit > 255) break;
        value = value * 8 + digit;
        this.#at++;
      }
      return value;
    }
    // Any other escaped character stands for itself ("\8", "\.", Annex B's "\a").
    return escape.charCodeAt(0);
  }
}

/** Facts about a parsed pattern that decide how safely it can run. */
export interface RegexFeatures {
  /** `\1`, `\k<name>`. */
  readonly backreference: boolean;
  /** `(?=...)`, `(?!...)`. */
  readonly lookahead: boolean;
  /** `(?<=...)`, `(?<!...)`. */
  readonly lookbehind: boolean;
  /** `(?i:...)`-style groups. */
  readonly modifiers: boolean;
  /** Any quantifier. */
  readonly repetition: boolean;
  /** `|` inside a group (at the top level, alternatives only add up). */
  readonly nestedAlternation: boolean;
  /**
   * The largest product of repetition counts along a nesting chain, where a counted
   * repetition `{n,m}` counts `m` (or `n` when unbounded) and `*`, `+`, `?` count 1: the
   * number of copies of its innermost term a linear-time engine compiles.
   */
  readonly replication: number;
  /**
   * Terms in the compiled program, each repetition multiplying its body by its count
   * (`{n,m}`: m, unbounded: n + 1); the work per character of a linear-time match grows
   * with it.
   */
  readonly size: number;
}

const SIZE_CAP = 1e9;

/** The {@linkcode RegexFeatures} of a parsed pattern. */
export function regexFeatures(pattern: Alternatives): RegexFeatures {
  const features = {
    backreference: false,
    lookahead: false,
    lookbehind: false,
    modifiers: false,
    repetition: false,
    nestedAlternation: false,
    replication: 1,
    size: 0,
  };
  const visit = (alternatives: Alternatives, replication: number, nested: boolean): number => {
    if (nested && alternatives.length > 1) features.nestedAlternation = true;
    let size = alternatives.length - 1;
    for (const sequence of alternatives) {
      for (const node of sequence) size += term(node, replication);
    }
    return Math.min(size, SIZE_CAP);
  };
  const term = (node: RegexNode, replication: number): number => {
    features.replication = Math.min(Math.max(features.replication, replication), SIZE_CAP);
    switch (node.type) {
      case "backreference":
        features.backreference = true;
        return 1;
      case "group":
        if (node.kind === "lookahead") features.lookahead = true;
        if (node.kind === "lookbehind") features.lookbehind = true;
        if (node.kind === "modifiers") features.modifiers = true;
        return 1 + visit(node.body, replication, true);
      case "repeat": {
        features.repetition = true;
        const count = node.max === Infinity ? node.min : node.max;
        const copies = node.max === Infinity ? node.min + 1 : node.max;
        const body = term(node.body, replication * Math.max(count, 1));
        return Math.min(1 + body * Math.max(copies, 1), SIZE_CAP);
      }
      default:
        return 1;
    }
  };
  features.size = visit(pattern, 1, false);
  return features;
}

/**
 * Source of a pattern matching what `pattern` matches with the `i` flag, without the flag:
 * every cased code unit becomes a class of its case variants (`a` → `[aA]`) and classes
 * gain the variants of their members. Groups that turn `i` off (`(?-i:...)`) are kept as
 * they are. Backreferences compare exactly, so a pattern with any is not equivalent: the
 * caller keeps the `i` flag for those.
 */
export function caseInsensitiveSource(pattern: Alternatives): string {
  return emitAlternatives(pattern);
}

function emitAlternatives(alternatives: Alternatives): string {
  return alternatives.map((sequence) => sequence.map(emitNode).join("")).join("|");
}

function emitNode(node: RegexNode): string {
  switch (node.type) {
    case "char": {
      const variants = caseVariants(node.code);
      return variants === undefined ? node.source : `[${variants.map(classMember).join("")}]`;
    }
    case "class":
      return emitClass(node.negated, node.items, node.source);
    case "group": {
      const turnsOff = node.kind === "modifiers" && /-[ms]*i/.test(node.open);
      return `${node.open}${turnsOff ? sourceOf(node.body) : emitAlternatives(node.body)})`;
    }
    case "repeat":
      return emitNode(node.body) + node.source;
    default:
      return node.source;
  }
}

function emitClass(negated: boolean, items: readonly ClassItem[], source: string): string {
  if (items.length === 0) return source;
  const ranges: [number, number][] = [];
  let text = negated ? "[^" : "[";
  for (const item of items) {
    if (item.type === "set") {
      text += item.source;
      continue;
    }
    ranges.push([item.from, item.to]);
    for (const code of casedInRange(item.from, item.to)) {
      for (const variant of caseVariants(code)!) ranges.push([variant, variant]);
    }
  }
  for (const [from, to] of mergeRanges(ranges)) {
    text += from === to ? classMember(from) : `${classMember(from)}-${classMember(to)}`;
  }
  return `${text}]`;
}

function mergeRanges(ranges: [number, number][]): [number, number][] {
  ranges.sort((a, b) => a[0] - b[0]);
  const merged: [number, number][] = [];
  for (const [from, to] of ranges) {
    const last = merged.at(-1);
    if (last !== undefined && from <= last[1] + 1) last[1] = Math.max(last[1], to);
    else merged.push([from, to]);
  }
  return merged;
}

/** The source text of parsed alternatives, as written. */
function sourceOf(alternatives: Alternatives): string {
  return alternatives.map((sequence) => sequence.map(nodeSource).join("")).join("|");
}

function nodeSource(node: RegexNode): string {
  switch (node.type) {
    case "group":
      return `${node.open}${sourceOf(node.body)})`;
    case "repeat":
      return nodeSource(node.body) + node.source;
    default:
      return node.source;
  }
}

/** A code unit as a class member: letters and digits as themselves, the rest escaped. */
function classMember(code: number): string {
  const isAlphanumeric = (code >= 0x30 && code <= 0x39) ||
    ((code | 0x20) >= 0x61 && (code | 0x20) <= 0x7a);
  return isAlphanumeric ? String.fromCharCode(code) : `\\u${code.toString(16).padStart(4, "0")}`;
}
