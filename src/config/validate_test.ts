import assert from "node:assert/strict";
import {
  configIssues as issuesOf,
  TEST_CONFIG_FILE as FILE,
  validateToml as validate,
} from "../_test_utils.ts";
import { OPEN_ACCESS } from "./defaults.ts";

/** A valid stream; cases append or replace tables to break one rule each. */
const STREAM = `
[[streams]]
name = "app"
[streams.monitor]
targets = [{ path = "/var/log/app.log", is_file = true }]
[streams.httpserver]
enabled = true
port = 8080
`;

/** STREAM with `lines` added to its [streams.httpserver] table. */
function withHttp(lines: string): string {
  return STREAM.replace("port = 8080", `port = 8080\n${lines}`);
}

Deno.test("validateConfig() resolves every default", () => {
  const config = validate(STREAM);
  assert.deepEqual(config, {
    streams: [{
      name: "app",
      monitor: {
        checkIntervalMs: 100,
        targets: [{ path: "/var/log/app.log", pattern: "*", isFile: true }],
        readFrom: "end",
        maxLineBytes: 1_048_576,
        fsEvents: true,
      },
      http: {
        host: "0.0.0.0",
        port: 8080,
        maxConnections: 1024,
        maxConnectionsPerIp: 64,
        headerTimeoutSeconds: 10,
        auth: { type: "none" },
        access: OPEN_ACCESS,
        bufferSize: 1000,
        bufferBytes: 8 * 1024 * 1024,
        slowClientTimeoutSeconds: 30,
        heartbeat: {
          enabled: false,
          intervalSeconds: 30,
          includeTimestamp: true,
          includeStats: false,
          format: "comment",
        },
        streamPath: "/stream",
        statusPath: "/status",
        wsPath: "/ws",
        metricsPath: "/metrics",
        viewerPath: "/",
      },
    }],
    router: {
      host: "0.0.0.0",
      port: 8080,
      maxConnections: 1024,
      maxConnectionsPerIp: 64,
      headerTimeoutSeconds: 10,
      auth: { type: "none" },
      access: OPEN_ACCESS,
      metricsPath: "/metrics",
      viewerPath: "/",
    },
    audit: { enabled: false, file: "" },
    console: { statsIntervalSeconds: 30 },
  });
});

Deno.test("validateConfig() inherits the global check interval and fs_events; a stream overrides them", () => {
  const config = validate(`
[monitor]
check_interval_ms = 250
fs_events = false
${STREAM}
[[streams]]
name = "fast"
[streams.monitor]
check_interval_ms = 20
fs_events = true
targets = [{ path = "logs", pattern = "*.log" }]
[streams.tcpserver]
enabled = true
port = 9090
[streams.tcpserver.heartbeat]
enabled = true
`);
  assert.equal(config.streams[0]?.monitor?.checkIntervalMs, 250);
  assert.equal(config.streams[1]?.monitor?.checkIntervalMs, 20);
  assert.equal(config.streams[0]?.monitor?.fsEvents, false);
  assert.equal(config.streams[1]?.monitor?.fsEvents, true);
  assert.deepEqual(config.streams[1]?.monitor?.targets, [
    { path: "/srv/logs", pattern: "*.log", isFile: false },
  ]);
  assert.equal(config.streams[1]?.tcp?.heartbeat.format, "json");
  assert.equal(config.streams[1]?.http, undefined);
});

Deno.test("validateConfig() router defaults come from the first HTTP stream", () => {
  const config = validate(`
[[streams]]
name = "tcp-only"
[streams.monitor]
targets = [{ path = "/var/log" }]
[streams.tcpserver]
enabled = true
port = 9090
${STREAM.replace("port = 8080", 'port = 8081\nhost = "127.0.0.1"')}
`);
  assert.equal(config.router?.host, "127.0.0.1");
  assert.equal(config.router?.port, 8081);
});

Deno.test("validateConfig() reports one issue per broken rule, naming its key", async (t) => {
  const cases: [rule: string, toml: string, key: string, message: RegExp][] = [
    ["unknown top-level key", `${STREAM}\n[server]\nport = 1`, "server", /unknown key/],
    ["did you mean", `[[stream]]\nname = "x"`, "stream", /did you mean "streams"\?/],
    [
      "stream key in global monitor",
      `[monitor]\ntargets = []\n${STREAM}`,
      "monitor.targets",
      /set it per stream, in \[streams\.monitor\]/,
    ],
    ["no streams", `[monitor]\ncheck_interval_ms = 100`, "streams", /at least one \[\[streams\]\]/],
    ["streams not an array", `[streams]\nname = "x"`, "streams", /expected an array of tables/],
    ["missing name", STREAM.replace('name = "app"', ""), "streams[0].name", /required/],
    ["bad name", STREAM.replace('"app"', '"my app"'), "streams[0].name", /not a valid name/],
    [
      "duplicate name",
      STREAM + STREAM.replace("8080", "8081"),
      "streams[1].name",
      /already the name of streams\[0\]/,
    ],
    [
      "no monitor",
      STREAM.replace(/\[streams\.monitor\]\ntargets = .*\n/, ""),
      "streams[0].monitor",
      /required/,
    ],
    [
      "no targets",
      STREAM.replace(/targets = .*\n/, ""),
      "streams[0].monitor.targets",
      /at least one/,
    ],
    [
      "empty targets",
      STREAM.replace(/targets = .*\n/, "targets = []\n"),
      "streams[0].monitor.targets",
      /at least one/,
    ],
    [
      "targets not an array",
      STREAM.replace(/targets = .*\n/, 'targets = "x"\n'),
      "streams[0].monitor.targets",
      /expected an array/,
    ],
    [
      "target without path",
      STREAM.replace('path = "/var/log/app.log", ', ""),
      "streams[0].monitor.targets[0].path",
      /required/,
    ],
    [
      "empty path",
      STREAM.replace('"/var/log/app.log"', '""'),
      "streams[0].monitor.targets[0].path",
      /must not be empty/,
    ],
    [
      "pattern on a file",
      STREAM.replace("is_file = true", 'is_file = true, pattern = "*.log"'),
      "streams[0].monitor.targets[0].pattern",
      /only directory targets/,
    ],
    [
      "bad pattern",
      STREAM.replace("is_file = true", 'pattern = "*.[log"'),
      "streams[0].monitor.targets[0].pattern",
      /unclosed "\["/,
    ],
    [
      "unknown target key",
      STREAM.replace("is_file", "isfile"),
      "streams[0].monitor.targets[0].isfile",
      /did you mean "is_file"/,
    ],
    [
      "is_file not boolean",
      STREAM.replace("is_file = true", 'is_file = "yes"'),
      "streams[0].monitor.targets[0].is_file",
      /expected true or false, got "yes"/,
    ],
    [
      "interval too small",
      `[monitor]\ncheck_interval_ms = 5\n${STREAM}`,
      "monitor.check_interval_ms",
      /5 is out of range: expected 10 to/,
    ],
    [
      "fs_events",
      STREAM.replace("[streams.monitor]", "[streams.monitor]\nfs_events = 0"),
      "streams[0].monitor.fs_events",
      /expected true or false, got 0/,
    ],
    [
      "stream interval too small",
      STREAM.replace("[streams.monitor]", "[streams.monitor]\ncheck_interval_ms = 9"),
      "streams[0].monitor.check_interval_ms",
      /out of range/,
    ],
    [
      "read_from",
      STREAM.replace("[streams.monitor]", '[streams.monitor]\nread_from = "start"'),
      "streams[0].monitor.read_from",
      /expected "end" or "beginning", got "start"/,
    ],
    [
      "max_line_bytes",
      STREAM.replace("[streams.monitor]", "[streams.monitor]\nmax_line_bytes = 0"),
      "streams[0].monitor.max_line_bytes",
      /out of range/,
    ],
    [
      "no server",
      STREAM.replace("enabled = true", "enabled = false"),
      "streams[0]",
      /no server enabled/,
    ],
    [
      "port missing",
      STREAM.replace("port = 8080", ""),
      "streams[0].httpserver.port",
      /required when enabled/,
    ],
    [
      "port range",
      STREAM.replace("8080", "0"),
      "streams[0].httpserver.port",
      /0 is out of range: expected 1 to 65535/,
    ],
    [
      "port type",
      STREAM.replace("8080", '"8080"'),
      "streams[0].httpserver.port",
      /expected an integer from 1 to 65535, got "8080"/,
    ],
    [
      "port float",
      STREAM.replace("8080", "80.5"),
      "streams[0].httpserver.port",
      /expected an integer/,
    ],
    [
      "empty host",
      withHttp('host = ""'),
      "streams[0].httpserver.host",
      /must not be empty/,
    ],
    [
      "buffer_size",
      withHttp("buffer_size = 0"),
      "streams[0].httpserver.buffer_size",
      /out of range/,
    ],
    [
      "stream_path",
      withHttp('stream_path = "stream"'),
      "streams[0].httpserver.stream_path",
      /not a URL path/,
    ],
    [
      "status_path",
      withHttp('status_path = "/a b"'),
      "streams[0].httpserver.status_path",
      /not a URL path/,
    ],
    [
      "same paths",
      withHttp('stream_path = "/status"'),
      "streams[0].httpserver.status_path",
      /"\/status" is also the stream_path/,
    ],
    [
      "heartbeat interval",
      `${STREAM}[streams.httpserver.heartbeat]\ninterval_seconds = 0`,
      "streams[0].httpserver.heartbeat.interval_seconds",
      /out of range: expected 1 to/,
    ],
    [
      "heartbeat format",
      `${STREAM}[streams.httpserver.heartbeat]\nformat = "xml"`,
      "streams[0].httpserver.heartbeat.format",
      /expected "comment" or "json", got "xml"/,
    ],
    [
      "tcp heartbeat comment",
      `${STREAM}[streams.tcpserver]\nenabled = true\nport = 9090\n[streams.tcpserver.heartbeat]\nformat = "comment"`,
      "streams[0].tcpserver.heartbeat.format",
      /TCP heartbeats are JSON lines/,
    ],
    [
      "unknown heartbeat key",
      `${STREAM}[streams.httpserver.heartbeat]\nenable = true`,
      "streams[0].httpserver.heartbeat.enable",
      /did you mean "enabled"/,
    ],
    [
      "server not a table",
      STREAM.replace('name = "app"', 'name = "app"\ntcpserver = "on"'),
      "streams[0].tcpserver",
      /expected a table, got "on"/,
    ],
    [
      "port clash",
      STREAM + STREAM.replace('"app"', '"b"'),
      "streams[1].httpserver.port",
      /port 8080 is already used by streams\[0\]\.httpserver\.port/,
    ],
    [
      "tcp/http clash",
      `${STREAM}[streams.tcpserver]\nenabled = true\nport = 8080`,
      "streams[0].tcpserver.port",
      /already used by streams\[0\]\.httpserver\.port/,
    ],
    ["router port", `[router]\nport = 70000\n${STREAM}`, "router.port", /out of range/],
    ["router host", `[router]\nhost = 1\n${STREAM}`, "router.host", /expected a string, got 1/],
    [
      "console",
      `[console]\nstats_interval_seconds = -1\n${STREAM}`,
      "console.stats_interval_seconds",
      /out of range: expected 0 to/,
    ],
    ["unknown console key", `[console]\nquiet = true\n${STREAM}`, "console.quiet", /unknown key/],
    [
      "unit missing from a key",
      `[console]\nstats_interval = 5\n${STREAM}`,
      "console.stats_interval",
      /did you mean "stats_interval_seconds"/,
    ],
    [
      "name not a string",
      STREAM.replace('"app"', "5"),
      "streams[0].name",
      /expected a string, got 5/,
    ],
    [
      "name with a line break",
      STREAM.replace('"app"', '"a\\nstreams[9].name: fake"'),
      "streams[0].name",
      /^"a\\nstreams\[9\]\.name: fake" is not a valid name/,
    ],
    ["stream not a table", `streams = [1]`, "streams[0]", /expected a table, got 1/],
    [
      "unknown stream key",
      STREAM.replace('name = "app"', 'name = "app"\nnmae = "b"'),
      "streams[0].nmae",
      /did you mean "name"/,
    ],
    [
      "monitor not a table",
      STREAM.replace(/\[streams\.monitor\]\ntargets = .*\n/, 'monitor = "x"\n'),
      "streams[0].monitor",
      /expected a table, got "x"/,
    ],
    [
      "unknown monitor key",
      STREAM.replace("[streams.monitor]", "[streams.monitor]\ncheck_interval = 50"),
      "streams[0].monitor.check_interval",
      /did you mean "check_interval_ms"/,
    ],
    [
      "target not a table",
      STREAM.replace(/targets = .*\n/, 'targets = ["/var/log"]\n'),
      "streams[0].monitor.targets[0]",
      /expected a table, got "\/var\/log"/,
    ],
    [
      "path not a string",
      STREAM.replace('"/var/log/app.log"', "1"),
      "streams[0].monitor.targets[0].path",
      /^expected a string, got 1$/,
    ],
    [
      "path with ~",
      STREAM.replace('"/var/log/app.log"', '"~/logs/app.log"'),
      "streams[0].monitor.targets[0].path",
      /"~\/logs\/app\.log" starts with "~", which is not expanded here/,
    ],
    [
      "path with NUL",
      STREAM.replace('"/var/log/app.log"', '"/var/log/a\\u0000b"'),
      "streams[0].monitor.targets[0].path",
      /"\/var\/log\/a\\u0000b" contains a NUL character/,
    ],
    [
      "integer written as a float",
      `[monitor]\ncheck_interval_ms = 100.0\n${STREAM}`,
      "monitor.check_interval_ms",
      /expected an integer from 10 to 3600000, got 100\.0/,
    ],
    [
      "integer in exponent form",
      withHttp("buffer_size = 1e3"),
      "streams[0].httpserver.buffer_size",
      /expected an integer from 1 to 1000000, got 1000\.0/,
    ],
    [
      "integer beyond 2^53",
      STREAM.replace("8080", "9007199254740993"),
      "streams[0].httpserver.port",
      /9007199254740993 is out of range: expected 1 to 65535/,
    ],
    [
      "unknown httpserver key",
      withHttp("buffer = 10"),
      "streams[0].httpserver.buffer",
      /did you mean "buffer_size"/,
    ],
    [
      "HTTP-only key on tcpserver",
      `${STREAM}[streams.tcpserver]\nenabled = true\nport = 9090\nstream_path = "/x"`,
      "streams[0].tcpserver.stream_path",
      /only \[streams\.httpserver\] has it/,
    ],
    [
      "enabled not boolean",
      STREAM.replace("enabled = true", 'enabled = "yes"'),
      "streams[0].httpserver.enabled",
      /expected true or false, got "yes"/,
    ],
    [
      "host not a string",
      withHttp("host = 127"),
      "streams[0].httpserver.host",
      /expected a string, got 127/,
    ],
    [
      "host not a host",
      withHttp('host = "local host"'),
      "streams[0].httpserver.host",
      /"local host" is not a host name or IP address/,
    ],
    [
      "heartbeat not a table",
      withHttp("heartbeat = true"),
      "streams[0].httpserver.heartbeat",
      /expected a table, got true/,
    ],
    ...["enabled", "include_timestamp", "include_stats"].map((
      name,
    ): [string, string, string, RegExp] => [
      `heartbeat ${name} not boolean`,
      `${STREAM}[streams.httpserver.heartbeat]\n${name} = 1`,
      `streams[0].httpserver.heartbeat.${name}`,
      /expected true or false, got 1/,
    ]),
    ...["monitor", "router", "console"].map((name): [string, string, string, RegExp] => [
      `${name} not a table`,
      `${name} = 1\n${STREAM}`,
      name,
      /expected a table, got 1/,
    ]),
    [
      "unknown router key",
      `[router]\nprot = 8000\n${STREAM}`,
      "router.prot",
      /did you mean "port"/,
    ],
    ["empty router host", `[router]\nhost = ""\n${STREAM}`, "router.host", /must not be empty/],
  ];
  for (const [rule, toml, key, message] of cases) {
    await t.step(rule, () => {
      const issues = issuesOf(toml);
      const issue = issues.find((issue) => issue.key === key);
      assert.ok(issue, `no issue for ${key}; got ${JSON.stringify(issues)}`);
      assert.match(issue.message, message);
      assert.equal(issue.file, FILE);
    });
  }
});

Deno.test("validateConfig() reports a value of the wrong type once, not also as missing", () => {
  const issues = issuesOf(STREAM.replace('"app"', "5").replace('"/var/log/app.log"', "1"));
  assert.deepEqual(issues.map((issue) => `${issue.key}: ${issue.message}`), [
    "streams[0].name: expected a string, got 5",
    "streams[0].monitor.targets[0].path: expected a string, got 1",
  ]);
});

Deno.test("validateConfig() takes host names and IP addresses, IPv6 without brackets", () => {
  const hostOf = (host: string) => validate(withHttp(`host = "${host}"`)).streams[0]?.http?.host;
  const accepted: [written: string, bound: string][] = [
    ["localhost", "localhost"],
    ["Logs.Example.com", "Logs.Example.com"],
    ["my_host", "my_host"],
    ["127.0.0.1", "127.0.0.1"],
    ["::", "::"],
    ["[::]", "::"],
    ["[::1]", "::1"],
    ["::ffff:127.0.0.1", "::ffff:127.0.0.1"],
    ["fe80::1%eth0", "fe80::1%eth0"],
  ];
  for (const [written, bound] of accepted) assert.equal(hostOf(written), bound, written);
  const refused = [
    "...",
    ".",
    ":",
    "a..b",
    "-a",
    "localhost.",
    "127.0.0.1.",
    "[::1",
    "::1]",
    "[abc]",
    "999.1.1.1",
    "1.2.3.4.5",
  ];
  const problemOf = (host: string) =>
    issuesOf(withHttp(`host = "${host}"`))
      .map((issue) => `${issue.key}: ${issue.message}`);
  for (const host of refused) {
    assert.deepEqual(problemOf(host), [
      `streams[0].httpserver.host: ${JSON.stringify(host)} is not a host name or IP address`,
    ]);
  }
  // What the URL parser would read differently does not bind as written: its reading is offered.
  assert.deepEqual(problemOf("127.1"), [
    'streams[0].httpserver.host: "127.1" is not a host name or IP address as written: ' +
    'did you mean "127.0.0.1"?',
  ]);
});

Deno.test("validateConfig() shows a float where an integer belongs as TOML writes it", () => {
  const floats: [written: string, shown: string][] = [
    ["8080.0", "8080.0"],
    ["1e300", "1e+300"],
    ["-0.0", "-0.0"],
    ["inf", "inf"],
    ["nan", "nan"],
  ];
  for (const [written, shown] of floats) {
    const [issue] = issuesOf(STREAM.replace("8080", written));
    assert.equal(issue?.message, `expected an integer from 1 to 65535, got ${shown}`);
  }
});

Deno.test("validateConfig() reports every problem of a file in one run", () => {
  const issues = issuesOf(`
[[streams]]
name = "a"
[streams.monitor]
targets = [{ path = "/x", is_file = true, pattern = "*" }]
[streams.httpserver]
enabled = true
port = 70000
[[streams]]
name = "a"
[streams.monitor]
targets = [{ path = "/y" }]
[streams.tcpserver]
enabled = true
port = 9000
prot = 1
`);
  assert.deepEqual(issues.map((issue) => issue.key), [
    "streams[0].monitor.targets[0].pattern",
    "streams[0].httpserver.port",
    "streams[1].name",
    "streams[1].tcpserver.prot",
  ]);
});

Deno.test("validateConfig() in router mode: stream HTTP ports may repeat, the router port may not clash", () => {
  const twoHttp = STREAM + STREAM.replace('"app"', '"b"');
  assert.ok(issuesOf(twoHttp).some((issue) => issue.key === "streams[1].httpserver.port"));
  assert.equal(validate(twoHttp, { router: true }).streams.length, 2);

  const clash = `[router]\nport = 9090\n${STREAM}[streams.tcpserver]\nenabled = true\nport = 9090`;
  const [issue] = issuesOf(clash, { router: true });
  assert.equal(issue?.key, "streams[0].tcpserver.port");
  assert.match(issue.message, /already used by router\.port/);
});

Deno.test("validateConfig() in router mode needs something to route", () => {
  const tcpOnly = STREAM.replace("[streams.httpserver]", "[streams.tcpserver]");
  assert.equal(validate(tcpOnly).router, undefined);
  const [issue] = issuesOf(tcpOnly, { router: true });
  assert.equal(issue?.key, "router");
  assert.match(issue.message, /needs \[router\] port or a stream with httpserver\.enabled/);
  const router = validate(`[router]\nport = 8000\n${tcpOnly}`, { router: true }).router;
  assert.equal(router?.host, "0.0.0.0");
  assert.equal(router?.port, 8000);
});

Deno.test("validateConfig() reports targets outside the read permission with the flag to add", () => {
  const [issue] = issuesOf(STREAM, { readable: (path) => path.startsWith("/srv") });
  assert.equal(issue?.key, "streams[0].monitor.targets[0].path");
  assert.match(issue.message, /"\/var\/log\/app\.log" is outside the read permission/);
  assert.match(issue.message, /--allow-read=\/var\/log\/app\.log/);
});
