import type { StreamConfig } from "../config/types.ts";

/** The `--check` lines of a stream's `[streams.source]` and `[streams.publish]`. */
export function describeNats(stream: StreamConfig): string[] {
  const lines: string[] = [];
  const { source, publish } = stream;
  if (source) {
    lines.push(
      `  source   nats ${source.servers.join(", ")}  JetStream stream ${source.jetstreamStream}` +
        `  subjects ${source.subjects.join(", ")}`,
    );
  }
  if (publish) {
    const host = publish.hostName === "" ? "{host} = host name" : `{host} = ${publish.hostName}`;
    lines.push(
      `  publish  nats ${publish.servers.join(", ")}  JetStream stream ${publish.jetstreamStream}` +
        `${publish.createStream ? " (created when missing)" : ""}  subject ${publish.subject}` +
        ` (${host})  at most ${publish.maxPendingEntries} entries pending`,
    );
  }
  return lines;
}
