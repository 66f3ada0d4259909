/**
 * Base-name glob patterns for directory targets.
 *
 * `node:path` `matchesGlob` would do, but it loads minimatch, which reads an environment
 * variable and so fails under `--allow-read=/var/log --allow-net` without `--allow-env`.
 * Base names need only this small grammar: `*`, `?`, `[abc]`, `[a-z]`, `[!abc]`
 * (or `[^abc]`), `{log,txt}` and `\` to escape.
 *
 * @module
 */

/** Compiles a base-name glob into a matcher; throws a `SyntaxError` naming the problem. */
export function compileGlob(pattern: string): (name: string) => boolean {
  if (pattern === "") throw new SyntaxError("Pattern is empty");
  if (pattern.includes("/")) {
    throw new SyntaxError(
      `Pattern ${JSON.stringify(pattern)} contains "/": it matches base names only`,
    );
  }
  const regex = new RegExp(`^${translate(pattern)}$`, "u");
  return (name) => regex.test(name);
}

function translate(pattern: string): string {
  let out = "";
  let braceDepth = 0;
  for (let i = 0; i < pattern.length; i++) {
    const char = pattern[i]!;
    switch (char) {
      case "*":
        out += "[^/]*";
        break;
      case "?":
        out += "[^/]";
        break;
      case "[": {
        const end = classEnd(pattern, i);
        if (end < 0) {
          throw new SyntaxError(`Pattern ${JSON.stringify(pattern)} has an unclosed "["`);
        }
        let body = pattern.slice(i + 1, end);
        const negated = body.startsWith("!") || body.startsWith("^");
        if (negated) body = body.slice(1);
        out += `[${negated ? "^" : ""}${body.replace(/[\\\]^]/g, "\\$&")}]`;
        i = end;
        break;
      }
      case "{":
        braceDepth++;
        out += "(?:";
        break;
      case "}":
        if (braceDepth === 0) {
          throw new SyntaxError(`Pattern ${JSON.stringify(pattern)} has an unmatched "}"`);
        }
        braceDepth--;
        out += ")";
        break;
      case ",":
        out += braceDepth > 0 ? "|" : ",";
        break;
      case "\\": {
        const next = pattern[i + 1];
        if (next === undefined) {
          throw new SyntaxError(`Pattern ${JSON.stringify(pattern)} ends with "\\"`);
        }
        out += escapeRegex(next);
        i++;
        break;
      }
      default:
        out += escapeRegex(char);
    }
  }
  if (braceDepth > 0) {
    throw new SyntaxError(`Pattern ${JSON.stringify(pattern)} has an unclosed "{"`);
  }
  return out;
}

/** Index of the `]` closing the class opened at `start`, or -1. A `]` right after `[` or `[!` is literal. */
function classEnd(pattern: string, start: number): number {
  let i = start + 1;
  if (pattern[i] === "!" || pattern[i] === "^") i++;
  if (pattern[i] === "]") i++;
  const end = pattern.indexOf("]", i);
  return end > start + 1 ? end : -1;
}

function escapeRegex(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&");
}
