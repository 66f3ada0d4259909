import type { Config } from "../config/types.ts";
import { checkSourceConfig } from "../nats/jetstream_source.ts";
import { checkPublishConfig } from "../nats/publisher.ts";

/**
 * What `--check` says about NATS tables that are valid but would stop LogWisp at startup:
 * credential or TLS files that cannot be read or used, and a `{host}` that needs
 * `--allow-sys=hostname` when `host_name` is not set.
 */
export async function natsWarnings(config: Config): Promise<string[]> {
  const warnings: string[] = [];
  for (const [index, stream] of config.streams.entries()) {
    const base = `streams[${index}]`;
    const issues = [
      ...(stream.publish ? await checkPublishConfig(stream.publish, `${base}.publish`) : []),
      ...(stream.source ? await checkSourceConfig(stream.source, `${base}.source`) : []),
    ];
    for (const issue of issues) warnings.push(`${issue.key}: ${issue.message}`);
    if (stream.publish?.hostName === "" && !hostnameAllowed()) {
      warnings.push(
        `${base}.publish: {host} needs the host name: set host_name, or allow it with ` +
          "--allow-sys=hostname (LogWisp will not start without one of them)",
      );
    }
  }
  return warnings;
}

function hostnameAllowed(): boolean {
  return Deno.permissions.querySync({ name: "sys", kind: "hostname" }).state === "granted";
}
