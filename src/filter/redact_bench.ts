/**
 * The price of redaction: `parseLine` alone against `parseLine` and a transform with every
 * detector, on a realistic mix of lines where most have nothing to redact. The target:
 * with all detectors on, a stream keeps at least half of its throughput.
 *
 * Under `deno bench`, the usual table (the ratio is in the summary). As a script
 * (`deno run src/filter/redact_bench.ts`), entries per second for both, taking the best of
 * interleaved rounds so that a busy machine disturbs both alike.
 *
 * @module
 */
import type { TransformConfig } from "../config/types.ts";
import type { LogEntry } from "../entry/entry.ts";
import { parseLine, readTime } from "../entry/parse_line.ts";
import { REDACT_DETECTORS } from "./redact.ts";
import { compileTransform } from "./transform.ts";

const at = readTime(Date.UTC(2024, 0, 1, 12, 0, 30));
const JWT =
  "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIiwiaWF0IjoxNTE2MjM5MDIyfQ." +
  "SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c";

/** One line of each kind, `i` making them differ; 12 of every 40 have something to redact. */
const KINDS: readonly [count: number, make: (i: number) => string][] = [
  [
    16,
    (i) =>
      `2024-01-01T12:00:${String(i % 60).padStart(2, "0")}.${
        String(i * 7919 % 1e6).padStart(6, "0")
      }Z ` +
      `${["INFO", "DEBUG", "WARN"][i % 3]} [worker-${i % 16}] handled request ` +
      `path=/api/v1/items/${i} status=200 dur=${i % 300}ms`,
  ],
  [8, (i) =>
    JSON.stringify({
      level: 30,
      time: 1704110400000 + i,
      pid: 4242,
      hostname: "web-1",
      msg: `request handled ${i}`,
      req: { method: "GET", url: `/api/v1/items/${i}`, headers: { "user-agent": "curl/8.5.0" } },
      responseTime: i % 100,
    })],
  [1, (i) =>
    JSON.stringify({
      level: 40,
      time: 1704110400000 + i,
      msg: "slow request",
      req: { remoteAddress: `10.1.${i % 256}.7`, url: "/login" },
    })],
  [
    1,
    (i) => JSON.stringify({ level: 30, msg: "password reset sent", user: `user${i}@example.com` }),
  ],
  [
    3,
    (i) =>
      `10.0.${i % 256}.${(i * 7) % 256} - - [01/Jan/2024:12:00:30 +0000] "GET /api/v1/items/${i} ` +
      `HTTP/1.1" 200 ${512 + i} "-" "Mozilla/5.0 (X11; Linux x86_64; rv:121.0) Gecko/20100101"`,
  ],
  [2, (i) =>
    `Jan  1 12:00:30 web-1 sshd[${1000 + i}]: Accepted publickey for deploy from ` +
    `192.168.${i % 256}.12 port ${40000 + i} ssh2`],
  [1, (i) => `2024-01-01T12:00:30Z ERROR mail to alice.${i}@example.com bounced: mailbox full`],
  [1, () => `2024-01-01T12:00:30Z DEBUG upstream call Authorization: Bearer ${JWT}`],
  [1, (i) => `2024-01-01T12:00:30Z INFO connection from 2001:db8::${(i % 65535).toString(16)}`],
  [1, () => "2024-01-01T12:00:30Z WARN payment declined card=4111 1111 1111 1111 code=51"],
  [1, () => "2024-01-01T12:00:30Z WARN deploy used key AKIAIOSFODNN7EXAMPLE from CI"],
  [4, (i) => `worker-${i % 16} finished job ${99812 + i} in ${(i % 50) / 10}s, next run at 13:00`],
];

/** 1,000 lines in a fixed, interleaved order. */
export const LINES: readonly string[] = (() => {
  const lines: string[] = [];
  for (let i = 0; lines.length < 1000; i++) {
    for (const [count, make] of KINDS) {
      for (let j = 0; j < count && lines.length < 1000; j++) lines.push(make(i * 40 + j));
    }
  }
  return lines;
})();

// deno-lint-ignore no-console
const print = (line: string) => console.log(line);

const ALL_DETECTORS: TransformConfig = {
  include: [],
  exclude: [],
  redact: REDACT_DETECTORS,
  redactPatterns: [],
  dropFields: [],
  addFields: {},
  stripAnsi: false,
};
const transform = compileTransform(ALL_DETECTORS)!;

let sink = 0;
const entries: LogEntry[] = new Array(LINES.length);

/** What the tailer does with a batch of lines read. */
function parseBatch(): void {
  for (let i = 0; i < LINES.length; i++) entries[i] = parseLine(LINES[i]!, "app.log", at);
  sink += entries.length;
}

/** The batch parsed, then transformed: the wiring this benchmark recommends. */
function parseBatchThenTransform(): void {
  parseBatch();
  for (const entry of entries) sink += transform(entry)!.message.length;
}

/** Each line parsed and transformed in turn. */
function parseAndTransformEach(): void {
  for (const line of LINES) sink += transform(parseLine(line, "app.log", at))!.message.length;
}

/** Best entries per second of each run over interleaved rounds of about 50 ms each. */
function compare(runs: readonly (() => void)[], rounds: number): number[] {
  const best = runs.map(() => 0);
  for (let round = 0; round < rounds; round++) {
    for (const [i, run] of runs.entries()) {
      let batches = 0;
      const start = performance.now();
      let elapsed = 0;
      do {
        run();
        batches++;
        elapsed = performance.now() - start;
      } while (elapsed < 50);
      best[i] = Math.max(best[i]!, batches * LINES.length / (elapsed / 1000));
    }
  }
  return best;
}

if (import.meta.main) {
  const runs = [parseBatch, parseBatchThenTransform, parseAndTransformEach];
  compare(runs, 3);
  const [parsed, batched, each] = compare(runs, 40);
  const format = (n: number) => Math.round(n).toLocaleString("en-US").padStart(10);
  const kept = (n: number) => `${(n / parsed! * 100).toFixed(0)}% kept`;
  print(`parseLine                                   ${format(parsed!)} entries/s`);
  print(
    `parseLine, then transform, by batch         ${format(batched!)} entries/s  ${kept(batched!)}`,
  );
  print(
    `parseLine and transform, line by line       ${format(each!)} entries/s  ${kept(each!)}`,
  );
  print("target: at least 50% kept, with all detectors on");
} else {
  Deno.bench("parseLine, 1,000 mixed lines", { group: "redact", baseline: true }, parseBatch);
  Deno.bench("parseLine, then transform with all detectors, by batch", {
    group: "redact",
  }, parseBatchThenTransform);
  Deno.bench("parseLine and transform with all detectors, line by line", {
    group: "redact",
  }, parseAndTransformEach);
}
