import assert from "node:assert/strict";
import { ConfigError, type ConfigIssue } from "./config_error.ts";
import { NO_AUTH, OPEN_ACCESS } from "./defaults.ts";
import { parseToml } from "./load.ts";
import { validateConfig } from "./validate.ts";

const FILE = "/etc/logwisp/test.toml";
const TCP_STREAM = `
[[streams]]
name = "app"
[streams.monitor]
targets = [{ path = "/var/log/app.log", is_file = true }]
[streams.tcpserver]
enabled = true
port = 9090
`;

function validate(toml: string) {
  return validateConfig(parseToml(toml, FILE), { file: FILE, cwd: "/srv" });
}

function issuesOf(toml: string): { key: string | undefined; message: string }[] {
  try {
    validate(toml);
  } catch (error) {
    if (error instanceof ConfigError) {
      return error.issues.map(({ key, message }: ConfigIssue) => ({ key, message }));
    }
    throw error;
  }
  assert.fail("expected a ConfigError");
}

Deno.test("[metrics] is absent unless written, and takes host, port, path and limits", () => {
  assert.equal(validate(TCP_STREAM).metrics, undefined);
  assert.deepEqual(validate(`${TCP_STREAM}\n[metrics]\nport = 9100\n`).metrics, {
    host: "0.0.0.0",
    port: 9100,
    path: "/metrics",
    maxConnections: 1024,
    maxConnectionsPerIp: 64,
    headerTimeoutSeconds: 10,
    auth: NO_AUTH,
    access: OPEN_ACCESS,
  });
  const custom = validate(
    `${TCP_STREAM}\n[metrics]\nhost = "::1"\nport = 9100\npath = "/prom"\nmax_connections = 4\n`,
  ).metrics;
  assert.deepEqual(
    [custom?.host, custom?.path, custom?.maxConnections, custom?.maxConnectionsPerIp],
    ["::1", "/prom", 4, 4],
  );
});

Deno.test("[metrics] problems name their key, all at once", () => {
  assert.deepEqual(
    issuesOf(`${TCP_STREAM}\n[metrics]\nhost = "bad host"\npath = "metrics"\nprot = 1\n`),
    [
      { key: "metrics.prot", message: 'unknown key: did you mean "port"?' },
      { key: "metrics.port", message: "required in a [metrics] table" },
      { key: "metrics.host", message: '"bad host" is not a host name or IP address' },
      {
        key: "metrics.path",
        message: '"metrics" is not a URL path: start with "/" and use no spaces, "?" or "#"',
      },
    ],
  );
  assert.deepEqual(issuesOf(`${TCP_STREAM}\n[metrics]\nport = 9100\npath = "/readyz"\n`), [
    { key: "metrics.path", message: '"/readyz" is a built-in endpoint: choose another path' },
  ]);
  assert.deepEqual(issuesOf(`${TCP_STREAM}\n[metrics]\nport = 9090\n`), [
    { key: "streams[0].tcpserver.port", message: "port 9090 is already used by metrics.port" },
  ]);
});
