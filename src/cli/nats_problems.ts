import type { ConfigIssue } from "../config/config_error.ts";
import type { Config } from "../config/types.ts";
import { checkSourceConfig } from "../nats/jetstream_source.ts";
import { checkPublishConfig } from "../nats/publisher.ts";

/**
 * What in valid NATS tables would stop LogWisp at startup: credential or TLS files that
 * cannot be read or used, and a `{host}` that needs `--allow-sys=hostname` when `host_name`
 * is not set. Configuration errors, for `--check` and startup alike.
 */
export async function natsProblems(config: Config): Promise<ConfigIssue[]> {
  const file = config.source.kind === "file" ? config.source.path : undefined;
  const problems: ConfigIssue[] = [];
  for (const [index, stream] of config.streams.entries()) {
    const base = `streams[${index}]`;
    const issues = [
      ...(stream.publish ? await checkPublishConfig(stream.publish, `${base}.publish`) : []),
      ...(stream.source ? await checkSourceConfig(stream.source, `${base}.source`) : []),
    ];
    if (stream.publish?.hostName === "" && !hostnameAllowed()) {
      issues.push({
        key: `${base}.publish.host_name`,
        message: "{host} needs the host name: set host_name, or allow reading it with " +
          "--allow-sys=hostname",
      });
    }
    for (const issue of issues) problems.push({ ...(file !== undefined && { file }), ...issue });
  }
  return problems;
}

function hostnameAllowed(): boolean {
  return Deno.permissions.querySync({ name: "sys", kind: "hostname" }).state === "granted";
}
