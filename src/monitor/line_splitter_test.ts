import assert from "node:assert/strict";
import { LineSplitter } from "./line_splitter.ts";

type Line = [line: string, truncated: boolean];

const encoder = new TextEncoder();

function bytes(...parts: (string | number[])[]): Uint8Array {
  const arrays = parts.map((part) => typeof part === "string" ? encoder.encode(part) : part);
  const out = new Uint8Array(arrays.reduce((sum, array) => sum + array.length, 0));
  let offset = 0;
  for (const array of arrays) {
    out.set(array, offset);
    offset += array.length;
  }
  return out;
}

/**
 * Feeds `input` in chunks of `chunkSize` through one reused buffer, scribbled over after
 * each push (the tailer reuses its read buffer), then flushes.
 */
function split(input: Uint8Array, maxLineBytes: number, chunkSize = input.length): {
  lines: Line[];
  truncatedLines: number;
} {
  const splitter = new LineSplitter({ maxLineBytes });
  const lines: Line[] = [];
  const sink = (line: string, truncated: boolean) => lines.push([line, truncated]);
  const scratch = new Uint8Array(Math.max(chunkSize, 1));
  for (let offset = 0; offset < input.length; offset += chunkSize) {
    const part = input.subarray(offset, offset + chunkSize);
    scratch.set(part);
    splitter.push(scratch.subarray(0, part.length), sink);
    scratch.fill(0x41);
    assert.ok(splitter.pendingBytes <= maxLineBytes);
  }
  splitter.flush(sink);
  assert.equal(splitter.pendingBytes, 0);
  return { lines, truncatedLines: splitter.truncatedLines };
}

const CASES: { name: string; input: Uint8Array; maxLineBytes: number; lines: Line[] }[] = [
  {
    name: "lines, CRLF and empty lines",
    input: bytes("a\nbb\r\n\n\r\n\r\r\nccc\n"),
    maxLineBytes: 1024,
    lines: [["a", false], ["bb", false], ["\r", false], ["ccc", false]],
  },
  {
    name: "partial last line is emitted by flush",
    input: bytes("first\nsecond"),
    maxLineBytes: 1024,
    lines: [["first", false], ["second", false]],
  },
  {
    name: "multibyte characters",
    input: bytes("héllo wörld\n日本語\n🎉x\n"),
    maxLineBytes: 1024,
    lines: [["héllo wörld", false], ["日本語", false], ["🎉x", false]],
  },
  {
    name: "invalid UTF-8 becomes U+FFFD",
    input: bytes([0x61, 0xff, 0x62, 0x0a, 0xc3, 0x0a, 0xe2, 0x82, 0x0a, 0xed, 0xa0, 0x80, 0x0a]),
    maxLineBytes: 1024,
    lines: [
      ["a\uFFFDb", false],
      ["\uFFFD", false],
      ["\uFFFD", false],
      ["\uFFFD\uFFFD\uFFFD", false],
    ],
  },
  {
    name: "NUL bytes and binary",
    input: bytes([0, 0x61, 0, 0x0a, 0x01, 0x02, 0x7f, 0x80, 0xfe, 0x0a]),
    maxLineBytes: 1024,
    lines: [["\0a\0", false], ["\x01\x02\x7f\uFFFD\uFFFD", false]],
  },
  {
    name: "a byte order mark is kept wherever it is",
    input: bytes("\uFEFFa\n\uFEFFb\n"),
    maxLineBytes: 1024,
    lines: [["\uFEFFa", false], ["\uFEFFb", false]],
  },
  {
    name: "line of exactly maxLineBytes is whole, one more byte is cut",
    input: bytes("12345\n123456\nab\n"),
    maxLineBytes: 5,
    lines: [["12345", false], ["12345", true], ["ab", false]],
  },
  {
    name: "the limit counts a trailing CR",
    input: bytes("1234\r\n12345\r\n"),
    maxLineBytes: 5,
    lines: [["1234", false], ["12345", true]],
  },
  {
    name: "cut backs off to a character boundary",
    input: bytes("abcé\nab€x\na🎉\n🎉🎉\n€€\né\n"),
    maxLineBytes: 4,
    lines: [["abc", true], ["ab", true], ["a", true], ["🎉", true], ["€", true], ["é", false]],
  },
  {
    name: "a character longer than the limit leaves an empty cut line",
    input: bytes("€x\nok\n"),
    maxLineBytes: 2,
    lines: [["", true], ["ok", false]],
  },
  {
    name: "invalid bytes at the cut are not backed off over more than a character",
    input: bytes([0x61, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x0a]),
    maxLineBytes: 5,
    lines: [["a\uFFFD", true]],
  },
  {
    name: "over-long lines between short ones, and an over-long last line",
    input: bytes("x".repeat(50), "\nshort\n", "y".repeat(30), "\r\n\nz\n", "w".repeat(40)),
    maxLineBytes: 16,
    lines: [
      ["x".repeat(16), true],
      ["short", false],
      ["y".repeat(16), true],
      ["z", false],
      ["w".repeat(16), true],
    ],
  },
];

for (const { name, input, maxLineBytes, lines } of CASES) {
  Deno.test(`LineSplitter: ${name}`, () => {
    assert.deepEqual(split(input, maxLineBytes).lines, lines);
  });

  Deno.test(`LineSplitter: ${name}, every chunk size`, () => {
    const expected = split(input, maxLineBytes);
    for (let chunkSize = 1; chunkSize <= input.length; chunkSize++) {
      assert.deepEqual(split(input, maxLineBytes, chunkSize), expected, `chunk size ${chunkSize}`);
    }
  });
}

Deno.test("LineSplitter: a character split between two chunks decodes whole", () => {
  const splitter = new LineSplitter({ maxLineBytes: 16 });
  const lines: string[] = [];
  const sink = (line: string) => lines.push(line);
  splitter.push(bytes("a", [0xc3]), sink);
  splitter.push(bytes([0xa9], "\n", [0xf0, 0x9f]), sink);
  splitter.push(bytes([0x8e, 0x89], "\n"), sink);
  assert.deepEqual(lines, ["aé", "🎉"]);
});

Deno.test("LineSplitter: a long line over many chunks is cut once, the next is intact", () => {
  const input = bytes("start\n", "x".repeat(1000), "\nnext\n");
  const { lines, truncatedLines } = split(input, 100, 7);
  assert.deepEqual(lines, [["start", false], ["x".repeat(100), true], ["next", false]]);
  assert.equal(truncatedLines, 1);
});

Deno.test("LineSplitter: a 10 MB line fed in 64 KiB chunks holds at most maxLineBytes", () => {
  const maxLineBytes = 1024 * 1024;
  const splitter = new LineSplitter({ maxLineBytes });
  const lines: Line[] = [];
  const sink = (line: string, truncated: boolean) => lines.push([line, truncated]);
  const chunk = new Uint8Array(64 * 1024).fill(0x78);
  let fed = 0;
  while (fed < 10_000_000) {
    splitter.push(chunk, sink);
    fed += chunk.length;
    assert.ok(splitter.pendingBytes <= maxLineBytes, `${splitter.pendingBytes} bytes held`);
  }
  assert.equal(splitter.pendingBytes, 0);
  assert.equal(lines.length, 1);
  assert.equal(lines[0]![0].length, maxLineBytes);
  assert.equal(lines[0]![1], true);
  splitter.push(bytes("tail of the long line\nafter\n"), sink);
  assert.deepEqual(lines.slice(1), [["after", false]]);
  assert.equal(splitter.truncatedLines, 1);
});

Deno.test("LineSplitter: pendingBytes counts the held partial line", () => {
  const splitter = new LineSplitter({ maxLineBytes: 10 });
  const lines: string[] = [];
  const sink = (line: string) => lines.push(line);
  splitter.push(bytes("one\ntw"), sink);
  assert.equal(splitter.pendingBytes, 2);
  splitter.push(bytes("o"), sink);
  assert.equal(splitter.pendingBytes, 3);
  splitter.push(bytes("\n"), sink);
  assert.equal(splitter.pendingBytes, 0);
  assert.deepEqual(lines, ["one", "two"]);
});

Deno.test("LineSplitter: flush ends a line being skipped", () => {
  const splitter = new LineSplitter({ maxLineBytes: 4 });
  const lines: Line[] = [];
  const sink = (line: string, truncated: boolean) => lines.push([line, truncated]);
  splitter.push(bytes("abcdefgh"), sink);
  assert.equal(splitter.pendingBytes, 0);
  splitter.flush(sink);
  splitter.push(bytes("new\n"), sink);
  assert.deepEqual(lines, [["abcd", true], ["new", false]]);
});

Deno.test("LineSplitter: flush without a partial line emits nothing", () => {
  const splitter = new LineSplitter({ maxLineBytes: 16 });
  const lines: string[] = [];
  const sink = (line: string) => lines.push(line);
  splitter.flush(sink);
  splitter.push(bytes("a\n\r"), sink);
  splitter.flush(sink);
  assert.deepEqual(lines, ["a"]);
});

Deno.test("LineSplitter: maxLineBytes must be a positive integer", () => {
  for (const maxLineBytes of [0, -1, 1.5, NaN, Infinity]) {
    assert.throws(() => new LineSplitter({ maxLineBytes }), RangeError, String(maxLineBytes));
  }
});

/** The rules of README "Following files" applied line by line to the whole input, for comparison. */
function reference(input: Uint8Array, maxLineBytes: number): Line[] {
  const decoder = new TextDecoder("utf-8", { ignoreBOM: true });
  const lines: Line[] = [];
  let start = 0;
  while (start < input.length) {
    let end = input.indexOf(0x0a, start);
    if (end === -1) end = input.length;
    const line = input.subarray(start, end);
    if (line.length > maxLineBytes) {
      let cut = maxLineBytes;
      while (cut > maxLineBytes - 3 && cut > 0 && (line[cut]! & 0xc0) === 0x80) cut--;
      lines.push([decoder.decode(line.subarray(0, cut)), true]);
    } else {
      const text = decoder.decode(line);
      const stripped = text.endsWith("\r") ? text.slice(0, -1) : text;
      if (stripped !== "") lines.push([stripped, false]);
    }
    start = end + 1;
  }
  return lines;
}

Deno.test("LineSplitter: mixed input follows the rules at every chunk size and limit", () => {
  // Deterministic pseudo-random mix of short, long, empty, CRLF, multibyte and invalid lines.
  let seed = 12345;
  const next = (n: number) => {
    seed = (seed * 1103515245 + 12345) % 2147483648;
    return seed % n;
  };
  const pieces = ["a", "é", "€", "🎉", "\r", "\n", "\n", "\r\n", "\0", "xyz"];
  const parts: (string | number[])[] = [];
  for (let i = 0; i < 120; i++) {
    parts.push(next(12) === 0 ? [0xff, 0xc3] : pieces[next(pieces.length)]!);
  }
  const input = bytes(...parts);
  for (const maxLineBytes of [1, 3, 4, 7, 16, 1000]) {
    const expected = reference(input, maxLineBytes);
    assert.ok(expected.length > 10);
    for (let chunkSize = 1; chunkSize <= input.length; chunkSize++) {
      assert.deepEqual(
        split(input, maxLineBytes, chunkSize).lines,
        expected,
        `max ${maxLineBytes}, chunk size ${chunkSize}`,
      );
    }
  }
});

/** Each line with where it ends in the whole input, fed in chunks of `chunkSize`. */
function lineEnds(input: Uint8Array, maxLineBytes: number, chunkSize: number): [string, number][] {
  const splitter = new LineSplitter({ maxLineBytes });
  const ends: [string, number][] = [];
  let base = 0;
  const sink = (line: string, _truncated: boolean, end: number) => ends.push([line, base + end]);
  for (let offset = 0; offset < input.length; offset += chunkSize) {
    base = offset;
    splitter.push(input.subarray(offset, offset + chunkSize), sink);
  }
  base = input.length;
  splitter.flush(sink);
  return ends;
}

Deno.test("line ends are byte offsets in the file, whatever the chunks", () => {
  const input = bytes("ab\n\ncé\r\n", [0xff, 0xfe], "x\n", "0123456789abc\n", "tail");
  const expected: [string, number][] = [
    ["ab", 3],
    ["cé", 9],
    ["\ufffd\ufffdx", 13],
    ["0123456789", 24],
    ["tail", 31],
  ];
  for (const chunkSize of [1, 2, 3, 5, 7, 64]) {
    assert.deepEqual(lineEnds(input, 10, chunkSize), expected, `chunks of ${chunkSize}`);
  }
});
