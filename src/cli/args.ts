import { parseArgs } from "node:util";
import { quote } from "../config/config_error.ts";
import { suggestKey } from "../config/suggest.ts";

/** The command line of SPEC §1. */
export interface CliOptions {
  readonly config?: string;
  readonly router: boolean;
  readonly check: boolean;
  readonly quiet: boolean;
  readonly version: boolean;
  readonly help: boolean;
}

/** A command line that cannot be used; the CLI prints it with a hint and exits 2. */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "UsageError";
  }
}

const OPTIONS = {
  config: { type: "string", short: "c" },
  router: { type: "boolean" },
  check: { type: "boolean" },
  quiet: { type: "boolean" },
  version: { type: "boolean", short: "V" },
  help: { type: "boolean", short: "h" },
} as const;

/** Parses `logwisp [--config FILE | -c FILE] [--router] [--check] [--quiet] [--version] [--help]`. */
export function parseCliArgs(args: readonly string[]): CliOptions {
  let values, tokens;
  try {
    ({ values, tokens } = parseArgs({
      args: [...args],
      options: OPTIONS,
      strict: true,
      tokens: true,
    }));
  } catch (error) {
    throw new UsageError(describeParseError(error));
  }
  if (values.config === "") throw new UsageError('Option "--config" needs a file path');
  // parseArgs keeps the last of a repeated option; which file the operator meant is unclear.
  const configs = tokens.filter((token) => token.kind === "option" && token.name === "config");
  if (configs.length > 1) {
    throw new UsageError(`Option "--config" is given ${configs.length} times: name one file`);
  }
  return {
    ...(values.config !== undefined && { config: values.config }),
    router: values.router ?? false,
    check: values.check ?? false,
    quiet: values.quiet ?? false,
    version: values.version ?? false,
    help: values.help ?? false,
  };
}

/** Rewrites `node:util` messages in LogWisp's style, with a "did you mean" for typos. */
function describeParseError(error: unknown): string {
  const { code, message } = error as { code?: string; message: string };
  const quoted = /'([^']*)'/.exec(message)?.[1] ?? "";
  switch (code) {
    case "ERR_PARSE_ARGS_UNKNOWN_OPTION": {
      const name = quoted.replace(/^-+/, "").split("=")[0] ?? "";
      const close = suggestKey(name, Object.keys(OPTIONS));
      return `Unknown option ${quote(quoted)}${close ? `: did you mean "--${close}"?` : ""}`;
    }
    case "ERR_PARSE_ARGS_INVALID_OPTION_VALUE": {
      // "Option '-c' argument is ambiguous" (`-c --check`) or "Option '-c, --config <value>'
      // argument missing": either way the file path is missing.
      if (/argument (is ambiguous|missing)/.test(message)) {
        const option = quoted.includes(",") ? "--config" : quoted;
        return `Option ${quote(option)} needs a file path` +
          (message.includes("ambiguous")
            ? ` (for one starting with "-", write --config=-FILE)`
            : "");
      }
      return `Option ${quote(quoted)} takes no value`;
    }
    case "ERR_PARSE_ARGS_UNEXPECTED_POSITIONAL":
      return `Unexpected argument ${quote(quoted)}: name a configuration file with --config`;
    default:
      return message;
  }
}
