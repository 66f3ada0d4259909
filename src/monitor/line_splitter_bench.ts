import { parseLine, readTime } from "../entry/parse_line.ts";
import { LineSplitter } from "./line_splitter.ts";

const LINE_BYTES = 120;

/**
 * About 1 MiB of 120-byte lines (newline included), ending at a newline. The ISO stamps
 * change second from line to line: the worst case for the formatting cache.
 */
function chunkOfLines(): { chunk: Uint8Array; lines: number } {
  const lines = Math.floor(1024 * 1024 / LINE_BYTES);
  const text: string[] = [];
  for (let i = 0; i < lines; i++) {
    const head = `2024-01-01T12:00:${String(i % 60).padStart(2, "0")}.${
      String(i).padStart(6, "0")
    }Z INFO [worker-${i % 16}] request handled path=/api/v1/items/${i} status=200 `;
    text.push(head.padEnd(LINE_BYTES - 1, "x"));
  }
  return { chunk: new TextEncoder().encode(text.join("\n") + "\n"), lines };
}

const { chunk, lines } = chunkOfLines();
const count = lines.toLocaleString("en-US");
let sunk = 0;
const countLine = (line: string) => {
  sunk += line.length;
};

const splitter = new LineSplitter({ maxLineBytes: 1024 * 1024 });
Deno.bench(`split 1 MiB (${count} lines)`, { group: "split", baseline: true }, () => {
  splitter.push(chunk, countLine);
});

// Chunks larger than maxLineBytes are decoded in blocks of at most maxLineBytes.
const smallLimit = new LineSplitter({ maxLineBytes: 4096 });
Deno.bench(`split 1 MiB (${count} lines), maxLineBytes 4 KiB`, { group: "split" }, () => {
  smallLimit.push(chunk, countLine);
});

const pipeline = new LineSplitter({ maxLineBytes: 1024 * 1024 });
let at = readTime(Date.now());
const parse = (line: string, truncated: boolean) => {
  sunk += parseLine(line, "app.log", at, truncated).message.length;
};
Deno.bench(`split + parse 1 MiB (${count} lines)`, () => {
  at = readTime(Date.now());
  pipeline.push(chunk, parse);
});
