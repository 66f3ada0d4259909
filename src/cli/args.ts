import { parseArgs } from "node:util";
import { quote } from "../config/config_error.ts";
import { suggestKey } from "../config/suggest.ts";

/** The command line of README "Command line". */
export interface CliOptions {
  /** `--config FILE`. */
  readonly config?: string;
  /** `--router`. */
  readonly router: boolean;
  /** `--check`. */
  readonly check: boolean;
  /** `--quiet`. */
  readonly quiet: boolean;
  /** `--version`. */
  readonly version: boolean;
  /** `--help`. */
  readonly help: boolean;
}

/** A command line that cannot be used; the CLI prints it with a hint and exits 2. */
export class UsageError extends Error {
  /** A usage error; the message names the argument. */
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

const SHORT_FLAGS = new Set<string>(
  Object.values(OPTIONS).flatMap((option) =>
    option.type === "boolean" && "short" in option ? [option.short] : []
  ),
);

/**
 * `-h=1` would reach parseArgs as the flags `-h`, `-=` and `-1`: a short group of known flags
 * followed by "=" is a value given to a flag.
 */
function checkShortFlagValues(args: readonly string[]): void {
  for (const arg of args) {
    if (arg === "--") return;
    const group = /^-([^-=][^=]*)=/.exec(arg)?.[1];
    if (group && [...group].every((flag) => SHORT_FLAGS.has(flag))) {
      throw new UsageError(`Option ${quote(`-${group}`)} takes no value`);
    }
  }
}

/** Parses `logwisp [--config FILE | -c FILE] [--router] [--check] [--quiet] [--version] [--help]`. */
export function parseCliArgs(args: readonly string[]): CliOptions {
  checkShortFlagValues(args);
  // Non-strict parsing hands over every token as typed; the checks below word the errors.
  const { tokens } = parseArgs({
    args: [...args],
    options: OPTIONS,
    strict: false,
    allowPositionals: true,
    tokens: true,
  });
  let config: string | undefined;
  const flags = new Set<string>();
  for (const token of tokens) {
    if (token.kind === "option-terminator") continue;
    if (token.kind === "positional") {
      throw new UsageError(
        `Unexpected argument ${quote(token.value)}: ` +
          "LogWisp takes no arguments; name the configuration file with --config",
      );
    }
    const { name, rawName, value } = token;
    if (!Object.hasOwn(OPTIONS, name)) {
      const close = suggestKey(name, Object.keys(OPTIONS));
      throw new UsageError(
        `Unknown option ${quote(rawName)}${close ? `: did you mean "--${close}"?` : ""}`,
      );
    }
    if (name !== "config") {
      if (value !== undefined) throw new UsageError(`Option ${quote(rawName)} takes no value`);
      flags.add(name);
      continue;
    }
    // `-c=a.toml` means the file "=a.toml" to getopt; nobody means that.
    const file = rawName === "-c" && token.inlineValue ? value?.replace(/^=/, "") : value;
    if (file === undefined || file === "") {
      throw new UsageError(`Option ${quote(rawName)} needs a file path`);
    }
    if (file.startsWith("-") && !(token.inlineValue && rawName === "--config")) {
      // `-c --check`: the next option was taken for the file; a file named "-x" is unlikely.
      throw new UsageError(
        `Option ${quote(rawName)} needs a file path, not ${quote(file)} ` +
          `(for a file starting with "-", write --config=${file})`,
      );
    }
    if (file !== value) {
      throw new UsageError(
        `Option "-c" takes its file without "=": write -c ${file} or --config=${file}`,
      );
    }
    if (config !== undefined) {
      throw new UsageError(`Option "--config" is given more than once: name one file`);
    }
    config = file;
  }
  return {
    ...(config !== undefined && { config }),
    router: flags.has("router"),
    check: flags.has("check"),
    quiet: flags.has("quiet"),
    version: flags.has("version"),
    help: flags.has("help"),
  };
}
