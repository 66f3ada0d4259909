/**
 * LogWisp's command line (SPEC §1): `deno task start [ARGS]` and the compiled binary.
 *
 * @module
 */
import { parseCliArgs, UsageError } from "./cli/args.ts";
import { formatCheckSummary } from "./cli/check_summary.ts";
import { HELP } from "./cli/help.ts";
import { ConfigError, formatIssue } from "./config/config_error.ts";
import { loadConfig } from "./config/load.ts";
import { writeStderr, writeStdout } from "./log.ts";
import { VERSION } from "./version.ts";

/** Runs LogWisp with command-line `args`; resolves to the process exit code (0, 1 or 2). */
export async function main(args: readonly string[]): Promise<number> {
  let options;
  try {
    options = parseCliArgs(args);
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    writeStderr(`logwisp: ${error.message}\nRun "logwisp --help" for usage.\n`);
    return 2;
  }
  if (options.help) {
    writeStdout(HELP);
    return 0;
  }
  if (options.version) {
    writeStdout(`logwisp ${VERSION} (deno ${Deno.version.deno})\n`);
    return 0;
  }

  let config;
  try {
    config = await loadConfig({ flag: options.config, router: options.router });
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    const count = error.issues.length;
    writeStderr(
      `logwisp: configuration error${count > 1 ? `s (${count})` : ""}:\n` +
        error.issues.map((issue) => `  ${formatIssue(issue).replaceAll("\n", "\n  ")}\n`).join(""),
    );
    return 2;
  }
  if (options.check) {
    writeStdout(formatCheckSummary(config, { router: options.router }));
    return 0;
  }
  writeStderr(formatCheckSummary(config, { router: options.router }));
  return 0;
}

if (import.meta.main) Deno.exit(await main(Deno.args));
