/**
 * `[streams.publish]` and `[streams.source]` (README "Scaling out with NATS"): how a stream
 * publishes its entries to JetStream, or reads them from there instead of from files.
 *
 * @module
 */
import { serverUrlProblem } from "../nats/connection.ts";
import { streamNameProblem, subjectProblem, templateProblem } from "../nats/subject.ts";
import { type Checker, describe, join, type Table } from "./checker.ts";
import type { NatsConnectionConfig, NatsSourceConfig, PublishConfig } from "./types.ts";

/** The stream keys this module reads. */
export const NATS_STREAM_KEYS = ["publish", "source"] as const;

const CONNECTION_KEYS = [
  "type",
  "servers",
  "creds_file",
  "token_file",
  "user",
  "password_file",
  "nkey_file",
  "tls",
];
const PUBLISH_KEYS = [
  ...CONNECTION_KEYS,
  "subject",
  "host_name",
  "jetstream_stream",
  "create_stream",
  "max_pending_entries",
];
const SOURCE_KEYS = [...CONNECTION_KEYS, "jetstream_stream", "subjects"];
const TLS_KEYS = ["ca_file", "cert_file", "key_file"];

/** Defaults of the keys a table leaves out. */
export const NATS_DEFAULTS = {
  subject: "logwisp.{host}.{stream}",
  jetstreamStream: "LOGWISP",
  maxPendingEntries: 100_000,
} as const;

const MAX_PENDING = { min: 1, max: 10_000_000 };

/** What a stream table says about NATS. */
export interface NatsStreamTables {
  /** `[streams.publish]`: the stream's entries also go to JetStream. */
  readonly publish?: PublishConfig;
  /** `[streams.source]`: the stream is fed from JetStream instead of files. */
  readonly source?: NatsSourceConfig;
}

/**
 * Reads `publish` and `source` of the stream table at `key`. A stream has exactly one of
 * `monitor` and `source`; `publish` needs a `monitor` (it publishes what the files hold).
 */
export function readNatsTables(check: Checker, stream: Table, key: string): NatsStreamTables {
  const publish = stream.publish === undefined
    ? undefined
    : readPublish(check, stream.publish, `${key}.publish`);
  const source = stream.source === undefined
    ? undefined
    : readSource(check, stream.source, `${key}.source`);
  if (stream.source !== undefined && stream.monitor !== undefined) {
    check.report(key, "a stream reads either files ([streams.monitor]) or NATS ([streams.source])");
  }
  if (stream.source !== undefined && stream.publish !== undefined) {
    check.report(
      `${key}.publish`,
      "only a stream with a [streams.monitor] publishes: this one already reads from NATS",
    );
  }
  return { ...(publish && { publish }), ...(source && { source }) };
}

function readPublish(check: Checker, value: unknown, key: string): PublishConfig | undefined {
  const table = check.table(value, key, PUBLISH_KEYS);
  if (!table) return undefined;
  const connection = readConnection(check, table, key);
  const subject = check.string(table, key, "subject") ?? NATS_DEFAULTS.subject;
  const subjectIssue = templateProblem(subject);
  if (subjectIssue) check.report(`${key}.subject`, subjectIssue);
  // Any host name will do: it becomes one subject token (`web-1.example.com` → `web-1_example_com`).
  const hostName = check.string(table, key, "host_name") ?? "";
  return {
    ...connection,
    type: "nats",
    subject,
    hostName,
    jetstreamStream: readStreamName(check, table, key),
    createStream: check.boolean(table, key, "create_stream", false),
    maxPendingEntries: check.integer(
      table,
      key,
      "max_pending_entries",
      MAX_PENDING,
      NATS_DEFAULTS.maxPendingEntries,
    ),
  };
}

function readSource(check: Checker, value: unknown, key: string): NatsSourceConfig | undefined {
  const table = check.table(value, key, SOURCE_KEYS);
  if (!table) return undefined;
  const connection = readConnection(check, table, key);
  const subjects = readStrings(check, table, key, "subjects");
  if (subjects !== undefined && subjects.length === 0) {
    check.report(`${key}.subjects`, 'required: at least one subject, such as "logwisp.*.app"');
  }
  if (table.subjects === undefined) {
    check.report(`${key}.subjects`, 'required: at least one subject, such as "logwisp.*.app"');
  }
  (subjects ?? []).forEach((subject, i) => {
    const problem = subjectProblem(subject, { wildcards: true });
    if (problem) check.report(`${key}.subjects[${i}]`, problem);
  });
  return {
    ...connection,
    type: "nats",
    jetstreamStream: readStreamName(check, table, key),
    subjects: subjects ?? [],
  };
}

function readConnection(check: Checker, table: Table, key: string): NatsConnectionConfig {
  if (table.type === undefined) {
    check.report(join(key, "type"), 'required: "nats"');
  } else if (table.type !== "nats") {
    check.report(join(key, "type"), `expected "nats", got ${describe(table.type)}`);
  }
  const servers = readStrings(check, table, key, "servers");
  if (table.servers === undefined || servers?.length === 0) {
    check.report(
      join(key, "servers"),
      'required: at least one NATS server URL, such as "nats://127.0.0.1:4222"',
    );
  }
  (servers ?? []).forEach((server, i) => {
    const problem = serverUrlProblem(server);
    if (problem) check.report(`${key}.servers[${i}]`, problem);
  });
  const file = (name: string) => {
    const path = check.string(table, key, name);
    return path === undefined || path === "" ? undefined : path;
  };
  const user = check.string(table, key, "user");
  const tls = readTls(check, table.tls, join(key, "tls"));
  return {
    servers: servers ?? [],
    ...optional("credsFile", file("creds_file")),
    ...optional("tokenFile", file("token_file")),
    ...optional("user", user === "" ? undefined : user),
    ...optional("passwordFile", file("password_file")),
    ...optional("nkeyFile", file("nkey_file")),
    ...(tls && { tls }),
  };
}

/** `tls = { ca_file, cert_file, key_file }`; all empty (as in the example) is no TLS. */
function readTls(check: Checker, value: unknown, key: string): NatsConnectionConfig["tls"] {
  if (value === undefined) return undefined;
  const table = check.table(value, key, TLS_KEYS);
  if (!table) return undefined;
  const file = (name: string) => {
    const path = check.string(table, key, name);
    return path === undefined || path === "" ? undefined : path;
  };
  const tls = {
    ...optional("caFile", file("ca_file")),
    ...optional("certFile", file("cert_file")),
    ...optional("keyFile", file("key_file")),
  };
  if ((tls.certFile === undefined) !== (tls.keyFile === undefined)) {
    check.report(key, "cert_file and key_file go together: set both or neither");
  }
  return Object.keys(tls).length === 0 ? undefined : tls;
}

function readStreamName(check: Checker, table: Table, key: string): string {
  const name = check.string(table, key, "jetstream_stream") ?? NATS_DEFAULTS.jetstreamStream;
  const problem = streamNameProblem(name);
  if (problem) check.report(join(key, "jetstream_stream"), problem);
  return name;
}

function readStrings(
  check: Checker,
  table: Table,
  key: string,
  name: string,
): string[] | undefined {
  const value = table[name];
  if (value === undefined) return undefined;
  if (!Array.isArray(value) || value.some((item) => typeof item !== "string")) {
    check.report(join(key, name), `expected an array of strings, got ${describe(value)}`);
    return undefined;
  }
  return value as string[];
}

function optional<K extends string>(
  name: K,
  value: string | undefined,
): { [P in K]?: string } {
  return (value === undefined ? {} : { [name]: value }) as { [P in K]?: string };
}
