/** One problem found in a configuration. */
export interface ConfigIssue {
  /** Config file path, when the problem is in a file. */
  readonly file?: string;
  /** Key path such as `streams[1].httpserver.port`; absent for syntax errors. */
  readonly key?: string;
  /** 1-based position, for TOML syntax errors. */
  readonly line?: number;
  /** Column of a TOML syntax error, from 1. */
  readonly column?: number;
  /** What is wrong, after the key path. */
  readonly message: string;
  /** Extra lines shown under the message, e.g. the offending TOML. */
  readonly detail?: string;
}

/** Every problem of a configuration, all reported at once. Callers print them and exit 2. */
export class ConfigError extends Error {
  /** Every problem found, in the order found. */
  readonly issues: readonly ConfigIssue[];

  /** An error listing `issues`. */
  constructor(issues: readonly ConfigIssue[]) {
    super(issues.map(formatIssue).join("\n"));
    this.name = "ConfigError";
    this.issues = issues;
  }
}

/** `file:line:column: message`, or `file: key: message`. */
export function formatIssue(issue: ConfigIssue): string {
  let where = issue.file ?? "";
  if (issue.line !== undefined) where += `:${issue.line}:${issue.column ?? 1}`;
  const parts = [where, issue.key, issue.message].filter((part) => part);
  const text = parts.join(": ");
  return issue.detail ? `${text}\n${issue.detail}` : text;
}

/**
 * A value as messages quote it: in double quotes, with control characters escaped, so a
 * value cannot break a message over lines or pass for another issue.
 */
export function quote(value: string): string {
  return JSON.stringify(value);
}
