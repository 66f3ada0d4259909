/**
 * NATS subjects: dot-separated tokens; `*` stands for one token and `>` (last) for one or
 * more. Publishing needs a literal subject; filters may use wildcards.
 *
 * @module
 */

/** The placeholders a publish subject template may use. */
export const SUBJECT_PLACEHOLDERS = ["host", "stream"] as const;

/**
 * `value` as one subject token: characters other than letters, digits, `_` and `-`
 * (dots, wildcards, spaces, control characters, anything else) become `_`, so a host name
 * like `web-1.example.com` stays one token (`web-1_example_com`). Never empty.
 */
export function subjectToken(value: string): string {
  const token = value.replace(/[^A-Za-z0-9_-]/g, "_");
  return token === "" ? "_" : token;
}

/** The subject of `template` with `{host}` and `{stream}` replaced by their tokens. */
export function renderSubject(
  template: string,
  values: { readonly host: string; readonly stream: string },
): string {
  return template.replace(
    /\{(host|stream)\}/g,
    (_, name: "host" | "stream") => subjectToken(values[name]),
  );
}

/**
 * Why `subject` is not a valid subject, or undefined. With `wildcards`, `*` may be a whole
 * token and `>` the last one (a filter); without, neither may appear (a publish subject).
 */
export function subjectProblem(
  subject: string,
  options: { wildcards: boolean },
): string | undefined {
  if (subject === "") return "a subject cannot be empty";
  // deno-lint-ignore no-control-regex
  if (/[\s\x00-\x1f\x7f]/.test(subject)) {
    return `${JSON.stringify(subject)}: a subject cannot contain spaces or control characters`;
  }
  const tokens = subject.split(".");
  for (const [i, token] of tokens.entries()) {
    if (token === "") return `${JSON.stringify(subject)}: a subject cannot have an empty token`;
    const wild = token.includes("*") || token.includes(">");
    if (!wild) continue;
    if (!options.wildcards) {
      return `${JSON.stringify(subject)}: a publish subject cannot contain "*" or ">"`;
    }
    if (token !== "*" && token !== ">") {
      return `${JSON.stringify(subject)}: "*" and ">" must be whole tokens`;
    }
    if (token === ">" && i !== tokens.length - 1) {
      return `${JSON.stringify(subject)}: ">" must be the last token`;
    }
  }
  return undefined;
}

/**
 * Why a publish subject template is unusable, or undefined: an unknown `{placeholder}`, or
 * a subject that is not valid whatever the host and stream names are.
 */
export function templateProblem(template: string): string | undefined {
  const unknown = [...template.matchAll(/\{([^}]*)\}/g)]
    .map((match) => match[1]!)
    .find((name) => !(SUBJECT_PLACEHOLDERS as readonly string[]).includes(name));
  if (unknown !== undefined) {
    return `unknown placeholder ${JSON.stringify(`{${unknown}}`)}: use {host} and {stream}`;
  }
  return subjectProblem(renderSubject(template, { host: "h", stream: "s" }), { wildcards: false });
}

/** Whether the literal `subject` matches the filter `pattern` (which may have wildcards). */
export function subjectMatches(pattern: string, subject: string): boolean {
  const filter = pattern.split(".");
  const tokens = subject.split(".");
  for (const [i, token] of filter.entries()) {
    if (token === ">") return tokens.length > i;
    if (i >= tokens.length) return false;
    if (token !== "*" && token !== tokens[i]) return false;
  }
  return filter.length === tokens.length;
}

/**
 * One filter that every subject matching any of `filters` also matches, as narrow as one
 * filter can be: equal tokens are kept, differing ones become `*`, and filters of different
 * lengths share their common prefix followed by `>`. A server filters by it; the exact
 * filters are applied to what it delivers.
 */
export function coverSubject(filters: readonly string[]): string {
  if (filters.length === 0) return ">";
  if (filters.length === 1) return filters[0]!;
  const split = filters.map((filter) => filter.split("."));
  const length = split[0]!.length;
  const sameLength = split.every((tokens) => tokens.length === length);
  // Filters of different lengths can only share tokens before the shortest one's last.
  const limit = sameLength ? length : Math.min(...split.map((tokens) => tokens.length)) - 1;
  const cover: string[] = [];
  for (let i = 0; i < limit; i++) {
    const column = split.map((tokens) => tokens[i]!);
    if (column.includes(">")) return [...cover, ">"].join(".");
    const first = column[0]!;
    if (column.every((token) => token === first)) {
      cover.push(first);
    } else if (sameLength) {
      cover.push("*");
    } else {
      return [...cover, ">"].join(".");
    }
  }
  return sameLength ? cover.join(".") : [...cover, ">"].join(".");
}

/**
 * The subjects of a JetStream stream created for `template`: the literal tokens before the
 * first placeholder followed by `>` (`logwisp.{host}.{stream}` → `logwisp.>`), or, when
 * the template starts with a placeholder, the template with each placeholder token as `*`.
 */
export function streamSubjectFor(template: string): string {
  const tokens = template.split(".");
  const first = tokens.findIndex((token) => token.includes("{"));
  if (first < 0) return template;
  if (first > 0) return [...tokens.slice(0, first), ">"].join(".");
  return tokens.map((token) => token.includes("{") ? "*" : token).join(".");
}

/** Why `name` cannot name a JetStream stream, or undefined. */
export function streamNameProblem(name: string): string | undefined {
  if (name === "") return "a JetStream stream name cannot be empty";
  // deno-lint-ignore no-control-regex
  if (/[\s\x00-\x1f\x7f.*>/\\]/.test(name)) {
    return `${JSON.stringify(name)}: a JetStream stream name cannot contain spaces, ` +
      `control characters, ".", "*", ">", "/" or "\\"`;
  }
  if (name.length > 255) return "a JetStream stream name has at most 255 characters";
  return undefined;
}
