/**
 * The reference documents cannot drift from the code: docs/configuration.md against the
 * validator, links between documents, no citation of a document the repository lacks, and a
 * reason in the README for every dependency.
 */
import assert from "node:assert/strict";
import { dirname, join, relative } from "node:path";
import { ConfigError } from "../src/config/config_error.ts";
import type { Table } from "../src/config/checker.ts";
import { validateConfig } from "../src/config/validate.ts";
import { ROOT } from "./_cli.ts";

const CONFIGURATION = join(ROOT, "docs/configuration.md");

/** One row of a key table. */
interface KeyRow {
  readonly section: string;
  readonly key: string;
  readonly defaultCell: string;
  readonly rangeCell: string;
}

/** Where each section's keys live in a document, and how their key paths are written. */
const SECTIONS: Record<string, { path: string; table: (doc: Document) => Table }> = {
  "Top level": { path: "", table: (doc) => doc },
  "[monitor]": { path: "monitor", table: (doc) => (doc.monitor ??= {}) as Table },
  "[console]": { path: "console", table: (doc) => (doc.console ??= {}) as Table },
  "[[streams]]": { path: "streams[0]", table: (doc) => stream(doc) },
  "[streams.monitor]": { path: "streams[0].monitor", table: (doc) => stream(doc).monitor },
  "targets": {
    path: "streams[0].monitor.targets[0]",
    table: (doc) => stream(doc).monitor.targets[0]!,
  },
  "[streams.tcpserver]": { path: "streams[0].tcpserver", table: (doc) => stream(doc).tcpserver },
  "[streams.tcpserver.heartbeat]": {
    path: "streams[0].tcpserver.heartbeat",
    table: (doc) => (stream(doc).tcpserver.heartbeat ??= {}) as Table,
  },
  "[streams.httpserver]": {
    path: "streams[0].httpserver",
    table: (doc) => stream(doc).httpserver,
  },
  "[streams.httpserver.heartbeat]": {
    path: "streams[0].httpserver.heartbeat",
    table: (doc) => (stream(doc).httpserver.heartbeat ??= {}) as Table,
  },
  "[streams.transform]": {
    path: "streams[0].transform",
    table: (doc) => (stream(doc).transform ??= {}) as Table,
  },
  "redact_patterns": {
    path: "streams[0].transform.redact_patterns[0]",
    table: (doc) => {
      const transform = (stream(doc).transform ??= {}) as Table;
      return ((transform.redact_patterns ??= [{ pattern: "secret" }]) as Table[])[0]!;
    },
  },
  "[streams.httpserver.tls]": {
    path: "streams[0].httpserver.tls",
    table: (doc) => (stream(doc).httpserver.tls ??= {}) as Table,
  },
  "[streams.httpserver.auth]": {
    path: "streams[0].httpserver.auth",
    table: (doc) => (stream(doc).httpserver.auth ??= {}) as Table,
  },
  "[streams.httpserver.access]": {
    path: "streams[0].httpserver.access",
    table: (doc) => (stream(doc).httpserver.access ??= {}) as Table,
  },
  "[streams.publish]": { path: "streams[0].publish", table: (doc) => publish(doc) },
  "[streams.publish.tls]": {
    path: "streams[0].publish.tls",
    table: (doc) => (publish(doc).tls ??= {}) as Table,
  },
  "[streams.source]": {
    path: "streams[0].source",
    table: (doc) => {
      // A stream reads either files or NATS.
      delete (stream(doc) as Table).monitor;
      return (stream(doc).source ??= { ...NATS, subjects: ["logwisp.*.app"] }) as Table;
    },
  },
  "[router]": { path: "router", table: (doc) => (doc.router ??= {}) as Table },
  "[audit]": { path: "audit", table: (doc) => (doc.audit ??= {}) as Table },
  "[metrics]": { path: "metrics", table: (doc) => doc.metrics as Table },
};

type StreamTable = Table & {
  monitor: Table & { targets: Table[] };
  tcpserver: Table;
  httpserver: Table;
};
type Document = Table & { streams: StreamTable[] };

function stream(doc: Document): StreamTable {
  return doc.streams[0]!;
}

/** The keys `[streams.publish]` and `[streams.source]` require. */
const NATS = { type: "nats", servers: ["nats://127.0.0.1:4222"] };

function publish(doc: Document): Table {
  return (stream(doc).publish ??= { ...NATS }) as Table;
}

/** A valid document with every table a key can be probed in (TOML integers are bigints). */
function baseDocument(): Document {
  return {
    streams: [{
      name: "app",
      monitor: { targets: [{ path: "/var/log/app" }] },
      tcpserver: { enabled: true, port: 9090n },
      httpserver: { enabled: true, port: 8080n },
    }],
    metrics: { port: 9100n },
  };
}

/** The resolved configuration, or the key paths of its problems. */
function validate(doc: Document): { config?: unknown; problems: string[] } {
  try {
    return { config: validateConfig(doc, { cwd: "/srv" }), problems: [] };
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    return { problems: error.issues.map((issue) => `${issue.key}: ${issue.message}`) };
  }
}

function keyRows(markdown: string): KeyRow[] {
  const rows: KeyRow[] = [];
  let section: string | undefined;
  for (const line of markdown.split("\n")) {
    const heading = /^#{2,3} (.*)$/.exec(line);
    if (heading) {
      const title = heading[1]!;
      section = /^`(.*)`$/.exec(title)?.[1] ?? title;
      continue;
    }
    const row = /^\| `([a-z_]+)` +\|(.*)$/.exec(line);
    if (!row || section === undefined) continue;
    const cells = row[2]!.split("|").map((cell) => cell.trim());
    assert.ok(section in SECTIONS, `docs/configuration.md: section "${section}" is known`);
    rows.push({ section, key: row[1]!, defaultCell: cells[0]!, rangeCell: cells[1]! });
  }
  return rows;
}

/** A TOML literal of a cell, as the parser would hand it over; undefined for prose. */
function literal(cell: string): unknown {
  const match = /^`([^`]*)`$/.exec(cell);
  if (!match) return undefined;
  const text = match[1]!;
  if (/^-?\d+$/.test(text)) return BigInt(text);
  if (text === "true" || text === "false") return text === "true";
  if (/^".*"$/.test(text)) return JSON.parse(text);
  return undefined;
}

/** Every key name the validator knows: the string arrays named `*_KEYS` in src/config. */
async function validatorKeys(): Promise<Set<string>> {
  const keys = new Set<string>();
  for await (const entry of Deno.readDir(join(ROOT, "src/config"))) {
    if (!entry.name.endsWith(".ts") || entry.name.endsWith("_test.ts")) continue;
    const source = await Deno.readTextFile(join(ROOT, "src/config", entry.name));
    for (const array of source.matchAll(/const [A-Z_]+_KEYS\b[^=]*= \[([^\]]*)\]/g)) {
      for (const key of array[1]!.matchAll(/"([a-z_]+)"/g)) keys.add(key[1]!);
    }
  }
  return keys;
}

Deno.test("docs/configuration.md lists every key the validator knows, and only those", async () => {
  const rows = keyRows(await Deno.readTextFile(CONFIGURATION));
  const documented = new Set(rows.map((row) => row.key));
  const known = await validatorKeys();
  assert.ok(known.size > 30, `found the validator's key lists (${known.size} keys)`);
  assert.deepEqual([...known].filter((key) => !documented.has(key)), [], "undocumented keys");
  assert.deepEqual([...documented].filter((key) => !known.has(key)), [], "unknown keys");
});

Deno.test("docs/configuration.md: each key is accepted, its default changes nothing, its range holds", async () => {
  const rows = keyRows(await Deno.readTextFile(CONFIGURATION));
  assert.ok(rows.length > 50);
  const { config: base } = validate(baseDocument());
  assert.ok(base, "the probe document is valid");
  for (const { section, key, defaultCell, rangeCell } of rows) {
    const { path, table } = SECTIONS[section]!;
    const keyPath = path === "" ? key : `${path}.${key}`;
    const probe = () => {
      const doc = baseDocument();
      // The per-address limit may not exceed the total: probe it under the largest total.
      if (key === "max_connections_per_ip") table(doc).max_connections = 1_000_000n;
      return doc;
    };
    const withValue = (value: unknown) => {
      const doc = probe();
      table(doc)[key] = value;
      return validate(doc);
    };

    const fallback = literal(defaultCell);
    if (fallback !== undefined) {
      const without = probe();
      delete table(without)[key];
      const omitted = validate(without);
      const given = withValue(fallback);
      assert.deepEqual(given.problems, [], `${keyPath} = ${defaultCell} is accepted`);
      assert.deepEqual(given.config, omitted.config, `${keyPath}: ${defaultCell} is its default`);
    }

    const range = /^(-?\d+)–(\d+)$/.exec(rangeCell);
    if (range) {
      const [min, max] = [BigInt(range[1]!), BigInt(range[2]!)];
      for (const value of [min, max]) {
        assert.deepEqual(withValue(value).problems, [], `${keyPath} = ${value} is accepted`);
      }
      for (const value of [min - 1n, max + 1n]) {
        assert.ok(
          withValue(value).problems.some((problem) => problem.startsWith(`${keyPath}: `)),
          `${keyPath} = ${value} is refused`,
        );
      }
    }
    for (const choice of rangeCell.matchAll(/`("[^"`]*")`/g)) {
      assert.deepEqual(
        withValue(JSON.parse(choice[1]!)).problems,
        [],
        `${keyPath} = ${choice[1]} is accepted`,
      );
    }
  }
});

/** Text files of the repository that people read: code, tests, docs. */
async function* repositoryFiles(dir = ROOT): AsyncGenerator<string> {
  for await (const entry of Deno.readDir(dir)) {
    if (entry.name.startsWith(".") || entry.name === "dist" || entry.name === "node_modules") {
      continue;
    }
    const path = join(dir, entry.name);
    if (entry.isDirectory) yield* repositoryFiles(path);
    else if (/\.(ts|md|toml|json|yml|service)$|^Dockerfile$/.test(entry.name)) yield path;
  }
}

Deno.test("no file cites a specification the repository does not hold", async () => {
  // Written in two parts, so that this test does not find itself.
  const citation = new RegExp("SPEC" + " *§|SPEC\\.md");
  const found: string[] = [];
  for await (const path of repositoryFiles()) {
    const lines = (await Deno.readTextFile(path)).split("\n");
    lines.forEach((line, i) => {
      if (citation.test(line)) found.push(`${relative(ROOT, path)}:${i + 1}: ${line.trim()}`);
    });
  }
  assert.deepEqual(found, [], "cite README sections or docs/ instead");
});

Deno.test("links between the README and docs/ lead to files and headings that exist", async () => {
  const documents = [join(ROOT, "README.md")];
  for await (const entry of Deno.readDir(join(ROOT, "docs"))) {
    if (entry.name.endsWith(".md")) documents.push(join(ROOT, "docs", entry.name));
  }
  const broken: string[] = [];
  for (const document of documents) {
    const text = await Deno.readTextFile(document);
    for (const [, target] of text.matchAll(/\]\(([^)\s]+)\)/g)) {
      if (/^[a-z]+:/.test(target!)) continue;
      const [file, anchor] = target!.split("#") as [string, string | undefined];
      const path = file === "" ? document : join(dirname(document), file);
      let linked: string;
      try {
        linked = Deno.statSync(path).isFile ? await Deno.readTextFile(path) : "";
      } catch {
        broken.push(`${relative(ROOT, document)}: ${target} (no such file)`);
        continue;
      }
      if (anchor !== undefined && path.endsWith(".md") && !anchors(linked).has(anchor)) {
        broken.push(`${relative(ROOT, document)}: ${target} (no such heading)`);
      }
    }
  }
  assert.deepEqual(broken, []);
});

/** GitHub's anchors of a Markdown document's headings. */
function anchors(markdown: string): Set<string> {
  const found = new Set<string>();
  for (const [, title] of markdown.matchAll(/^#{1,6} (.*)$/gm)) {
    found.add(
      title!.toLowerCase().replace(/[^\p{L}\p{N} _-]/gu, "").replaceAll(" ", "-"),
    );
  }
  return found;
}

Deno.test("the README's Dependencies section names every import of deno.json, and says why", async () => {
  const { imports } = JSON.parse(await Deno.readTextFile(join(ROOT, "deno.json"))) as {
    imports: Record<string, string>;
  };
  const readme = await Deno.readTextFile(join(ROOT, "README.md"));
  const section = /\n## Dependencies\n([\s\S]*?)(?=\n## |$)/.exec(readme)?.[1] ?? "";
  assert.ok(section, "a Dependencies section");
  for (const name of Object.keys(imports)) {
    const line = section.split("\n- ").find((item) => item.includes(`[\`${name}\`]`));
    assert.ok(line, `README "Dependencies" has no line for "${name}"`);
    assert.match(line, /\): \S/, `the line for "${name}" says why`);
  }
});
