import assert from "node:assert/strict";
import { join } from "node:path";
import { umask } from "node:process";
import { tempDir, waitFor } from "../_test_utils.ts";
import type { LogLevel } from "../log.ts";
import { AuditLog, type AuditLogOptions, type AuditSink } from "./audit_log.ts";

const T0 = Date.UTC(2026, 11, 2, 17, 0, 0);
const ENABLED = { enabled: true, file: "" };

/** A sink that keeps what is written, line by line. */
class Collector implements AuditSink {
  text = "";
  closed = false;
  get lines(): Record<string, unknown>[] {
    return this.text.split("\n").filter((line) => line !== "").map((line) => JSON.parse(line));
  }
  write(data: Uint8Array): Promise<number> {
    this.text += new TextDecoder().decode(data);
    return Promise.resolve(data.length);
  }
  close(): void {
    this.closed = true;
  }
}

async function collecting(options: AuditLogOptions = {}) {
  const sink = new Collector();
  const time = { now: T0 };
  const log = await AuditLog.open(ENABLED, { sink, now: () => time.now, ...options });
  return { sink, time, log };
}

Deno.test("AuditLog writes one JSON line per event with the documented fields", async () => {
  const { sink, time, log } = await collecting();
  log.record({
    event: "connect",
    stream: "app",
    transport: "http",
    remoteAddr: "198.51.100.7",
    user: "alice",
  });
  time.now += 1500;
  log.record({
    event: "disconnect",
    stream: "app",
    transport: "tcp",
    remoteAddr: "198.51.100.7",
    subject: "CN=alice",
    reason: "client closed",
    durationMs: 1500.4,
    entries: 42,
    bytes: 8192,
  });
  log.record({ event: "auth_failure", transport: "http", remoteAddr: "::1", reason: "invalid" });
  log.record({ event: "reload", reason: "users_file" });
  await log.close();
  assert.deepEqual(sink.lines, [
    {
      time: "2026-12-02T17:00:00.000Z",
      event: "connect",
      stream: "app",
      transport: "http",
      remote_addr: "198.51.100.7",
      user: "alice",
    },
    {
      time: "2026-12-02T17:00:01.500Z",
      event: "disconnect",
      stream: "app",
      transport: "tcp",
      remote_addr: "198.51.100.7",
      subject: "CN=alice",
      reason: "client closed",
      duration_ms: 1500,
      entries: 42,
      bytes: 8192,
    },
    {
      time: "2026-12-02T17:00:01.500Z",
      event: "auth_failure",
      transport: "http",
      remote_addr: "::1",
      reason: "invalid",
    },
    { time: "2026-12-02T17:00:01.500Z", event: "reload", reason: "users_file" },
  ]);
  assert.ok(sink.closed);
  assert.deepEqual(log.stats, { written: 4, suppressed: 0, dropped: 0, failed: 0 });
});

Deno.test("AuditLog keeps client-supplied text on one line and bounded", async () => {
  const { sink, log } = await collecting();
  log.record({
    event: "denied",
    remoteAddr: 'x\n{"event":"forged"}\u001b[2J',
    user: "u".repeat(10_000),
  });
  await log.close();
  assert.equal(sink.text.split("\n").length, 2);
  const [line] = sink.lines;
  assert.equal(line?.remote_addr, 'x\n{"event":"forged"}\u001b[2J');
  assert.equal(line?.user, `${"u".repeat(256)}…`);
});

Deno.test("AuditLog: a flood of refusals gives N lines per interval, then one summary", async () => {
  const { sink, time, log } = await collecting({ maxRefusalsPerInterval: 20, intervalMs: 1000 });
  for (let i = 0; i < 1000; i++) {
    log.record({ event: "denied", remoteAddr: `10.0.${i >> 8}.${i & 255}` });
  }
  for (let i = 0; i < 500; i++) log.record({ event: "rate_limited", remoteAddr: "10.9.9.9" });
  // Connections that got in are always written.
  for (let i = 0; i < 3; i++) log.record({ event: "connect", remoteAddr: `192.0.2.${i}` });
  time.now += 999;
  log.record({ event: "tls_error", reason: "still the same interval" });
  time.now += 1;
  log.record({ event: "auth_failure", reason: "the next interval" });
  for (let i = 0; i < 25; i++) log.record({ event: "tls_error" });
  await log.close();

  const events = sink.lines.map((line) => line.event);
  assert.equal(events.length, 20 + 3 + 1 + 20 + 1);
  assert.deepEqual(events.slice(0, 23), [...Array(20).fill("denied"), ...Array(3).fill("connect")]);
  assert.deepEqual(sink.lines[23], {
    time: "2026-12-02T17:00:01.000Z",
    event: "suppressed",
    interval_ms: 1000,
    counts: { denied: 980, rate_limited: 500, tls_error: 1 },
  });
  assert.deepEqual(events.slice(24, 44), ["auth_failure", ...Array(19).fill("tls_error")]);
  // Closing writes the summary of the interval under way.
  assert.deepEqual(sink.lines[44], {
    time: "2026-12-02T17:00:01.000Z",
    event: "suppressed",
    interval_ms: 1000,
    counts: { tls_error: 6 },
  });
  assert.deepEqual(log.stats, { written: 45, suppressed: 1487, dropped: 0, failed: 0 });
});

Deno.test("AuditLog writes the summary when the interval ends, even if nothing follows", async () => {
  const sink = new Collector();
  const log = await AuditLog.open(ENABLED, { sink, intervalMs: 50, maxRefusalsPerInterval: 2 });
  for (let i = 0; i < 10; i++) log.record({ event: "denied" });
  await waitFor(() => sink.lines.length === 3, { message: () => sink.text });
  assert.deepEqual(sink.lines[2]?.counts, { denied: 8 });
  await log.close();
  assert.equal(sink.lines.length, 3);
});

Deno.test("AuditLog never throws on failed writes: lines are counted, the operator told once", async () => {
  const messages: [LogLevel, string][] = [];
  let broken = true;
  const collector = new Collector();
  const sink: AuditSink = {
    write: (data) => {
      if (broken) throw new Deno.errors.BrokenPipe("Broken pipe (os error 32)");
      return collector.write(data);
    },
    close: () => {
      throw new Deno.errors.BadResource("closed");
    },
  };
  const log = await AuditLog.open(ENABLED, {
    sink,
    log: (level, message) => messages.push([level, message]),
  });
  log.record({ event: "connect" });
  await waitFor(() => log.stats.failed === 1);
  log.record({ event: "connect" });
  await waitFor(() => log.stats.failed === 2);
  broken = false;
  log.record({ event: "reload" });
  await waitFor(() => log.stats.written === 1);
  broken = true;
  log.record({ event: "connect" });
  await log.close();
  assert.deepEqual(log.stats, { written: 1, suppressed: 0, dropped: 0, failed: 3 });
  assert.deepEqual(messages, [
    ["error", "Cannot write the audit log: broken pipe; lost lines are counted"],
    ["error", "Cannot write the audit log: broken pipe; lost lines are counted"],
  ]);
  log.record({ event: "connect" });
  assert.equal(log.stats.dropped, 1, "after close, events are dropped");
});

Deno.test("AuditLog on a full disk (/dev/full) counts what it loses", async () => {
  const messages: string[] = [];
  const log = await AuditLog.open(
    { enabled: true, file: "/dev/full" },
    { log: (_, message) => messages.push(message) },
  );
  log.record({ event: "connect" });
  log.record({ event: "connect" });
  await log.close();
  assert.deepEqual(log.stats, { written: 0, suppressed: 0, dropped: 0, failed: 2 });
  assert.equal(messages.length, 1);
  assert.match(messages[0]!, /^Cannot write the audit log: no space left on device/i);
});

Deno.test("AuditLog bounds what waits for a slow sink", async () => {
  let release = () => {};
  const gate = new Promise<void>((resolve) => release = resolve);
  const collector = new Collector();
  const sink: AuditSink = {
    write: async (data) => {
      await gate;
      return collector.write(data);
    },
    close: () => {},
  };
  const log = await AuditLog.open(ENABLED, { sink, maxPendingBytes: 10_000 });
  for (let i = 0; i < 10_000; i++) log.record({ event: "connect", remoteAddr: "203.0.113.1" });
  release();
  await log.close();
  const { written, dropped } = log.stats;
  assert.equal(written + dropped, 10_000);
  assert.ok(written < 200, `${written} lines held`);
  assert.equal(collector.lines.length, written);
});

Deno.test("AuditLog appends to its file, creating it with mode 0640", async () => {
  await using dir = await tempDir();
  const file = join(dir.path, "audit.log");
  const first = await AuditLog.open({ enabled: true, file });
  first.record({ event: "reload" });
  await first.close();
  assert.equal((await Deno.stat(file)).mode! & 0o777, 0o640 & ~umask());
  await using second = await AuditLog.open({ enabled: true, file });
  second.record({ event: "connect" });
  await second.close();
  const events = (await Deno.readTextFile(file)).trim().split("\n").map((line) =>
    JSON.parse(line).event
  );
  assert.deepEqual(events, ["reload", "connect"]);
});

Deno.test("AuditLog.open() says why a file cannot be opened", async () => {
  await using dir = await tempDir();
  const missingDir = join(dir.path, "missing", "audit.log");
  await assert.rejects(AuditLog.open({ enabled: true, file: missingDir }), {
    message: `Cannot open the audit log "${missingDir}": it does not exist`,
  });
  await assert.rejects(AuditLog.open({ enabled: true, file: dir.path }), {
    message: `Cannot open the audit log "${dir.path}": it is not a regular file`,
  });
  const fifo = join(dir.path, "fifo");
  assert.ok((await new Deno.Command("mkfifo", { args: [fifo] }).output()).success);
  await assert.rejects(AuditLog.open({ enabled: true, file: fifo }), {
    message: `Cannot open the audit log "${fifo}": it is not a regular file`,
  });
});

Deno.test("AuditLog needs --allow-write for its file and nothing else", async () => {
  await using dir = await tempDir();
  const file = join(dir.path, "audit.log");
  const script = [
    `import { AuditLog } from ${JSON.stringify(new URL("./audit_log.ts", import.meta.url).href)};`,
    `const log = await AuditLog.open({ enabled: true, file: ${JSON.stringify(file)} });`,
    `log.record({ event: "connect", remoteAddr: "192.0.2.1" });`,
    `await log.close();`,
  ].join("\n");
  const run = (flags: string[]) =>
    new Deno.Command(Deno.execPath(), {
      args: ["run", "--no-prompt", "--quiet", ...flags, "-"],
      stdin: "piped",
      stdout: "piped",
      stderr: "piped",
    });
  const child = run([`--allow-write=${file}`]).spawn();
  const writer = child.stdin.getWriter();
  await writer.write(new TextEncoder().encode(script));
  await writer.close();
  const output = await child.output();
  assert.equal(new TextDecoder().decode(output.stderr), "");
  assert.ok(output.success);
  assert.equal(JSON.parse(await Deno.readTextFile(file)).remote_addr, "192.0.2.1");

  const refused = run([]).spawn();
  const refusedWriter = refused.stdin.getWriter();
  await refusedWriter.write(new TextEncoder().encode(script));
  await refusedWriter.close();
  const failure = await refused.output();
  assert.ok(!failure.success);
  assert.match(new TextDecoder().decode(failure.stderr), /Cannot open the audit log/);
});

Deno.test("a disabled AuditLog writes nothing", async () => {
  const sink = new Collector();
  const log = await AuditLog.open({ enabled: false, file: "" }, { sink });
  log.record({ event: "connect" });
  await log.close();
  assert.equal(log.enabled, false);
  assert.equal(sink.text, "");
});
