import assert from "node:assert/strict";
import { configIssues, validateToml as validate } from "../_test_utils.ts";

function issuesOf(toml: string): { key: string | undefined; message: string }[] {
  return configIssues(toml).map(({ key, message }) => ({ key, message }));
}

const HTTP = `
[streams.httpserver]
enabled = true
port = 8080
`;

const FILES = `
[[streams]]
name = "app"
[streams.monitor]
targets = [{ path = "/var/log/app.log", is_file = true }]
`;

const GATEWAY = `
[[streams]]
name = "fleet"
[streams.source]
type = "nats"
servers = ["nats://nats-1:4222"]
subjects = ["logwisp.*.app"]
` + HTTP;

Deno.test("[streams.publish] resolves the documented defaults", () => {
  const config = validate(
    FILES + `
[streams.publish]
type = "nats"
servers = ["nats://nats-1:4222", "nats://nats-2:4222"]
creds_file = ""
tls = { ca_file = "", cert_file = "", key_file = "" }
` + HTTP,
  );
  assert.deepEqual(config.streams[0]!.publish, {
    type: "nats",
    servers: ["nats://nats-1:4222", "nats://nats-2:4222"],
    subject: "logwisp.{host}.{stream}",
    hostName: "",
    jetstreamStream: "LOGWISP",
    createStream: false,
    maxPendingEntries: 100_000,
  });
});

Deno.test("[streams.publish] reads credentials, TLS and its own settings", () => {
  const config = validate(
    FILES + `
[streams.publish]
type = "nats"
servers = ["tls://nats-1:4222"]
subject = "logs.{stream}.{host}"
host_name = "web-1.example.com"
jetstream_stream = "LOGS"
create_stream = true
user = "logwisp"
password_file = "/etc/logwisp/nats.password"
tls = { ca_file = "/etc/logwisp/ca.pem", cert_file = "/etc/logwisp/c.pem", key_file = "/etc/logwisp/k.pem" }
max_pending_entries = 500
` + HTTP,
  );
  assert.deepEqual(config.streams[0]!.publish, {
    type: "nats",
    servers: ["tls://nats-1:4222"],
    user: "logwisp",
    passwordFile: "/etc/logwisp/nats.password",
    tls: {
      caFile: "/etc/logwisp/ca.pem",
      certFile: "/etc/logwisp/c.pem",
      keyFile: "/etc/logwisp/k.pem",
    },
    subject: "logs.{stream}.{host}",
    hostName: "web-1.example.com",
    jetstreamStream: "LOGS",
    createStream: true,
    maxPendingEntries: 500,
  });
});

Deno.test("[streams.source] replaces [streams.monitor]", () => {
  const stream = validate(GATEWAY).streams[0]!;
  assert.equal(stream.monitor, undefined);
  assert.deepEqual(stream.source, {
    type: "nats",
    servers: ["nats://nats-1:4222"],
    jetstreamStream: "LOGWISP",
    subjects: ["logwisp.*.app"],
  });
});

Deno.test("NATS tables report each problem with its key path", () => {
  assert.deepEqual(
    issuesOf(
      FILES + `
[streams.publish]
type = "kafka"
servers = ["http://nats-1:4222", "nats://user:secret@nats-2"]
subject = "logwisp.{hots}"
jetstream_stream = "LOG WISP"
max_pending_entries = 0
tls = { cert_file = "/etc/logwisp/c.pem" }
` + HTTP,
    ),
    [
      { key: "streams[0].publish.type", message: 'expected "nats", got "kafka"' },
      {
        key: "streams[0].publish.servers[0]",
        message: '"http://nats-1:4222": the scheme must be "nats" or "tls", not "http"',
      },
      {
        key: "streams[0].publish.servers[1]",
        message: '"nats-2": credentials do not belong in the URL: ' +
          "use token_file, user + password_file, nkey_file or creds_file",
      },
      {
        key: "streams[0].publish.tls",
        message: "cert_file and key_file go together: set both or neither",
      },
      {
        key: "streams[0].publish.subject",
        message: 'unknown placeholder "{hots}": use {host} and {stream}',
      },
      {
        key: "streams[0].publish.jetstream_stream",
        message: issuesOf(
          FILES + `
[streams.publish]
type = "nats"
servers = ["nats://a"]
jetstream_stream = "LOG WISP"
` + HTTP,
        )[0]!.message,
      },
      {
        key: "streams[0].publish.max_pending_entries",
        message: "0 is out of range: expected 1 to 10000000",
      },
    ],
  );
});

Deno.test("a stream has files or a NATS source, and only a file stream publishes", () => {
  assert.deepEqual(
    issuesOf(
      `
[[streams]]
name = "both"
[streams.monitor]
targets = [{ path = "/var/log/app.log", is_file = true }]
[streams.source]
type = "nats"
servers = ["nats://nats-1:4222"]
subjects = []
[streams.publish]
type = "nats"
servers = ["nats://nats-1:4222"]
` + HTTP,
    ),
    [
      {
        key: "streams[0].source.subjects",
        message: 'required: at least one subject, such as "logwisp.*.app"',
      },
      {
        key: "streams[0]",
        message: "a stream reads either files ([streams.monitor]) or NATS ([streams.source])",
      },
      {
        key: "streams[0].publish",
        message:
          "only a stream with a [streams.monitor] publishes: this one already reads from NATS",
      },
    ],
  );
  assert.deepEqual(
    issuesOf(
      `
[[streams]]
name = "neither"
[streams.source]
servers = []
subjects = ["logwisp.>.app"]
[streams.source.tls]
ca = "x"
` + HTTP,
    ),
    [
      { key: "streams[0].source.type", message: 'required: "nats"' },
      {
        key: "streams[0].source.servers",
        message: 'required: at least one NATS server URL, such as "nats://127.0.0.1:4222"',
      },
      { key: "streams[0].source.tls.ca", message: 'unknown key: did you mean "ca_file"?' },
      {
        key: "streams[0].source.subjects[0]",
        message: '"logwisp.>.app": ">" must be the last token',
      },
    ],
  );
});
