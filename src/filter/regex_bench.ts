/**
 * What a regular expression costs under each V8 regexp configuration.
 *
 * As a script (`deno run -A src/filter/regex_bench.ts [--timeout=10]`), it prints tables:
 * each cell runs in its own `deno` process with that column's `--v8-flags`, killed after the
 * timeout. Under `deno bench`, it measures client patterns as the filter runs them, under
 * the flags `deno bench` was given.
 *
 * @module
 */
import { compileClientPattern, PatternError, REGEX_V8_FLAGS } from "./safe_regex.ts";

// deno-lint-ignore no-console
const print = (line = "") => console.log(line);

interface Engine {
  readonly name: string;
  readonly flags: string;
  /** Compile with the `l` flag: the linear-time engine runs every match. */
  readonly linear?: boolean;
}

const FALLBACK = "--enable-experimental-regexp-engine-on-excessive-backtracks";
const ENGINES: readonly Engine[] = [
  { name: "no flags", flags: "" },
  { name: "fallback at 50,000", flags: FALLBACK },
  { name: "fallback at 1,000", flags: `${FALLBACK},--regexp-backtracks-before-fallback=1000` },
  { name: "l flag", flags: "--enable-experimental-regexp-engine", linear: true },
];

interface Case {
  readonly pattern: string;
  readonly flags?: string;
  readonly subject: string;
  readonly what: string;
}

const KB50 = 50_000;
const LINE =
  "2024-01-01T12:00:30.123456Z WARN [worker-3] handled request path=/api/v1/items/12345 " +
  "user=8641 status=200 dur=123ms client=10.1.2.3 agent=Mozilla/5.0 (X11; Linux x86_64) x";

const CATASTROPHIC: readonly Case[] = [
  { pattern: "(a+)+$", subject: `${"a".repeat(KB50)}!`, what: "50 kB of a, then !" },
  { pattern: "(a+)+$", subject: "a".repeat(KB50), what: "50 kB of a" },
  { pattern: "(a|a)*$", subject: `${"a".repeat(KB50)}!`, what: "50 kB of a, then !" },
  { pattern: "(a*)*b", subject: "a".repeat(KB50), what: "50 kB of a" },
  { pattern: "(a|aa)+$", subject: `${"a".repeat(KB50)}!`, what: "50 kB of a, then !" },
  { pattern: "^((a|b)+)+$", subject: `${"ab".repeat(KB50 / 2)}!`, what: "50 kB of ab, then !" },
  {
    pattern: "^(\\w+\\s?)+$",
    subject: `${"word ".repeat(KB50 / 5)}!`,
    what: "50 kB of words, then !",
  },
  { pattern: "(x+x+)+y", subject: "x".repeat(KB50), what: "50 kB of x" },
  { pattern: "(.*,){12}X", subject: "a,".repeat(KB50 / 2), what: "50 kB of a," },
  { pattern: ".*x.*", subject: "a".repeat(KB50), what: "50 kB of a" },
  { pattern: "\\s+$", subject: `${" ".repeat(KB50)}!`, what: "50 kB of spaces, then !" },
  { pattern: "(a+)+$", flags: "i", subject: `${"a".repeat(KB50)}!`, what: "50 kB of a, then !" },
  { pattern: "([Aa]+)+$", subject: `${"a".repeat(KB50)}!`, what: "50 kB of a, then !" },
  { pattern: "(a+)+$", subject: `${"a".repeat(200)}!`, what: "200 a, then !" },
];

const ORDINARY: readonly Case[] = [
  "timeout",
  "user=\\d+ status=5\\d\\d",
  "^\\S+ \\S+ WARN",
  "(\\w+)=(\\d+)ms",
  "[Tt][Ii][Mm][Ee][Oo][Uu][Tt]",
  "\\b(\\d{1,3}\\.){3}\\d{1,3}\\b",
  ".*status=500.*",
].map((pattern) => ({ pattern, subject: LINE, what: "a 200-character log line" }));

/** `(?:a?){16}` repeated: the compiled size grows by 49 with each copy. */
const SIZES: readonly Case[] = [1, 2, 3, 5, 10].map((copies) => ({
  pattern: `${"(?:a?){16}".repeat(copies)}$`,
  subject: `${"a".repeat(8192)}!`,
  what: "8 kB of a, then !",
}));

const LENGTHS: readonly Case[] = [
  ...[16, 20, 24, 28].map((n) => ({
    pattern: "(a+)+$",
    subject: `${"a".repeat(n)}!`,
    what: `${n} a, then !`,
  })),
  ...[1024, 8192, 65536, 1 << 20].map((n) => ({
    pattern: ".*x.*",
    subject: "a".repeat(n),
    what: `${n.toLocaleString("en-US")} a`,
  })),
];

const TABLES: readonly { title: string; cases: readonly Case[]; engines: readonly Engine[] }[] = [
  { title: "Catastrophic patterns, one match", cases: CATASTROPHIC, engines: ENGINES },
  { title: "Ordinary patterns, one match", cases: ORDINARY, engines: ENGINES },
  {
    title: "Input length alone (no bound helps an exponential pattern)",
    cases: LENGTHS,
    engines: [ENGINES[0]!, ENGINES[2]!],
  },
  {
    title: "Compiled size of a pattern the fallback runs (fallback at 1,000)",
    cases: SIZES,
    engines: [ENGINES[2]!],
  },
];

/** Runs one case in this process: mean time per match in ms, or why there is none. */
function measure(testCase: Case, linear: boolean): { ms: number } | { refused: string } {
  let regex: RegExp;
  try {
    regex = new RegExp(testCase.pattern, (testCase.flags ?? "") + (linear ? "l" : ""));
  } catch (error) {
    return { refused: (error as Error).message.replace(/^[^]*: /, "") };
  }
  regex.test(testCase.subject);
  let runs = 0;
  const start = performance.now();
  let elapsed = 0;
  do {
    regex.test(testCase.subject);
    runs++;
    elapsed = performance.now() - start;
  } while (elapsed < 200 && runs < 100_000);
  return { ms: elapsed / runs };
}

function formatMs(ms: number): string {
  if (ms < 0.001) return `${(ms * 1e6).toFixed(0)} ns`;
  if (ms < 1) return `${(ms * 1000).toFixed(1)} µs`;
  if (ms < 1000) return `${ms.toFixed(1)} ms`;
  return `${(ms / 1000).toFixed(1)} s`;
}

async function cell(table: number, index: number, engine: Engine, timeoutS: number) {
  const args = ["run", `--v8-flags=${engine.flags || "--no-enable-experimental-regexp-engine"}`];
  args.push(import.meta.filename!, "--cell", String(table), String(index));
  if (engine.linear) args.push("--linear");
  const command = new Deno.Command(Deno.execPath(), {
    args,
    stdout: "piped",
    stderr: "inherit",
    signal: AbortSignal.timeout(timeoutS * 1000),
  });
  const output = await command.output();
  if (!output.success) return output.signal !== null ? `> ${timeoutS} s` : "failed";
  const result = JSON.parse(new TextDecoder().decode(output.stdout));
  return "ms" in result ? formatMs(result.ms) : "refused";
}

function row(cells: readonly string[], widths: readonly number[]): string {
  return `| ${cells.map((text, i) => text.padEnd(widths[i]!)).join(" | ")} |`;
}

async function main(args: readonly string[]): Promise<void> {
  if (args[0] === "--cell") {
    const testCase = TABLES[Number(args[1])]!.cases[Number(args[2])]!;
    print(JSON.stringify(measure(testCase, args[3] === "--linear")));
    return;
  }
  const timeout = Number(args.find((arg) => arg.startsWith("--timeout="))?.slice(10) ?? 10);
  print(`Deno ${Deno.version.deno}, V8 ${Deno.version.v8}; cells stop after ${timeout} s`);
  print(`LogWisp's flags: --v8-flags=${REGEX_V8_FLAGS}\n`);
  for (const [t, table] of TABLES.entries()) {
    print(`${table.title}\n`);
    const header = ["pattern", "subject", ...table.engines.map((engine) => engine.name)];
    const rows: string[][] = [];
    for (const [i, testCase] of table.cases.entries()) {
      const cells = [`/${testCase.pattern}/${testCase.flags ?? ""}`, testCase.what];
      for (const engine of table.engines) cells.push(await cell(t, i, engine, timeout));
      rows.push(cells);
    }
    const widths = header.map((_, c) => Math.max(...[header, ...rows].map((r) => r[c]!.length)));
    print(row(header, widths));
    print(`|${widths.map((w) => "-".repeat(w + 2)).join("|")}|`);
    for (const cells of rows) print(row(cells, widths));
    print();
  }
}

if (import.meta.main) {
  await main(Deno.args);
} else {
  // Under `deno bench`: one client filter's cost per entry, as the filter compiles it under
  // the flags `deno bench` runs with (without the linear-time engine, patterns that repeat
  // are refused, and their benchmarks skipped).
  let sink = 0;
  const cases: [pattern: string, subject: string, what: string][] = [
    ["timeout", LINE, "a 200-character line"],
    ["(?i)timeout", LINE, "a 200-character line"],
    ["user=\\d+ status=5\\d\\d", LINE, "a 200-character line"],
    [".*status=500.*", LINE, "a 200-character line"],
    ["(a+)+$", `${"a".repeat(200)}!`, "200 a, then ! (falls back)"],
  ];
  for (const [pattern, subject, what] of cases) {
    let regex: RegExp | undefined;
    try {
      regex = compileClientPattern(pattern);
    } catch (error) {
      if (!(error instanceof PatternError)) throw error;
    }
    Deno.bench(`client pattern /${pattern}/ on ${what}`, { ignore: regex === undefined }, () => {
      if (regex!.test(subject)) sink++;
    });
  }
}
