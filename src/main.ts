/**
 * LogWisp's command line (README "Command line"): `deno task start [ARGS]` and the compiled binary.
 *
 * @module
 */
import { parseCliArgs, UsageError } from "./cli/args.ts";
import { formatCheckSummary } from "./cli/check_summary.ts";
import { HELP } from "./cli/help.ts";
import { natsProblems } from "./cli/nats_problems.ts";
import { targetWarnings } from "./cli/target_warnings.ts";
import { ConfigError, type ConfigIssue, formatIssue } from "./config/config_error.ts";
import { loadConfig } from "./config/load.ts";
import type { Config } from "./config/types.ts";
import { type Log, stderrLog, writeStderr, writeStdout } from "./log.ts";
import { runLogWisp } from "./service/app.ts";
import { loadSecurity, type Security } from "./service/security.ts";
import { StartupError } from "./service/startup_error.ts";
import { VERSION } from "./version.ts";

/** README "Signals": exit within 5 s of SIGINT/SIGTERM, whatever the clients do. */
const SHUTDOWN_DEADLINE_MS = 5000;

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
    return writeStdout(HELP) ? 0 : 1;
  }
  if (options.version) {
    return writeStdout(`logwisp ${VERSION} (deno ${Deno.version.deno})\n`) ? 0 : 1;
  }

  let config;
  try {
    config = await loadConfig({ flag: options.config, router: options.router });
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    return configErrors(error.issues);
  }
  const { security, problems, warnings: securityWarnings } = await loadSecurity(config, {
    router: options.router,
  });
  const all = [...problems, ...await natsProblems(config)];
  if (all.length > 0) return configErrors(all);
  if (options.check) {
    const warnings = [...securityWarnings, ...await targetWarnings(config)];
    return writeStdout(formatCheckSummary(config, { router: options.router, warnings })) ? 0 : 1;
  }
  for (const warning of securityWarnings) stderrLog("warn", warning);
  return await serve(config, { ...options, security }, stderrLog);
}

/** Prints configuration errors as README "Command line" shows them; the exit code is 2. */
function configErrors(issues: readonly ConfigIssue[]): number {
  const count = issues.length;
  writeStderr(
    `logwisp: configuration error${count > 1 ? `s (${count})` : ""}:\n` +
      issues.map((issue) => `  ${formatIssue(issue).replaceAll("\n", "\n  ")}\n`).join(""),
  );
  return 2;
}

/** Runs until SIGINT or SIGTERM; SIGHUP is reported and otherwise ignored. */
async function serve(
  config: Config,
  options: { router: boolean; quiet: boolean; security: Security },
  log: Log,
): Promise<number> {
  const controller = new AbortController();
  let watchdog: ReturnType<typeof setTimeout> | undefined;
  const stop = () => {
    if (controller.signal.aborted) return;
    controller.abort();
    // Every part is bounded by its drain deadline; this is the backstop if one is not.
    const timer = setTimeout(() => {
      log("error", `Shutdown took over ${SHUTDOWN_DEADLINE_MS / 1000} s: exiting now`);
      Deno.exit(0);
    }, SHUTDOWN_DEADLINE_MS);
    Deno.unrefTimer(timer);
    watchdog = timer;
  };
  const hangup = () =>
    log(
      "warn",
      "SIGHUP received: configuration reload is not supported; restart LogWisp to apply changes",
    );
  const signals = [["SIGINT", stop], ["SIGTERM", stop], ["SIGHUP", hangup]] as const;
  for (const [signal, handler] of signals) Deno.addSignalListener(signal, handler);
  try {
    return await runLogWisp(config, { ...options, shutdown: controller.signal, log });
  } catch (error) {
    if (!(error instanceof StartupError)) throw error;
    log("error", error.message);
    return 1;
  } finally {
    clearTimeout(watchdog);
    for (const [signal, handler] of signals) Deno.removeSignalListener(signal, handler);
  }
}

if (import.meta.main) Deno.exit(await main(Deno.args));
