import { parseLine, readTime } from "./parse_line.ts";

const LINES = 1000;
const at = readTime(Date.UTC(2024, 0, 1, 12, 0, 30));

function lines(make: (i: number) => string): string[] {
  return Array.from({ length: LINES }, (_, i) => make(i));
}

// Stamped lines change second from line to line: the worst case for the formatting cache.
const micros = (i: number) => String(i * 997 % 1000000).padStart(6, "0");
const KINDS: [name: string, lines: string[]][] = [
  [
    "plain, ISO time and level",
    lines((i) =>
      `2024-01-01T12:00:${String(i % 60).padStart(2, "0")}.${micros(i)}Z WARN [worker-${
        i % 16
      }] slow request path=/api/v1/items/${i} dur=${i}ms`
    ),
  ],
  [
    "plain, no time or level",
    lines((i) => `worker-${i % 16} handled request path=/api/v1/items/${i} status=200 dur=${i}ms`),
  ],
  [
    "JSON",
    lines((i) =>
      JSON.stringify({
        level: 30,
        time: 1704110400000 + i,
        pid: 4242,
        hostname: "web-1",
        msg: `request handled ${i}`,
        req: { method: "GET", url: `/api/v1/items/${i}` },
      })
    ),
  ],
  [
    "syslog",
    lines((i) =>
      `Jan  1 12:00:${String(i % 60).padStart(2, "0")} web-1 sshd[${
        1000 + i
      }]: error: connection closed by 10.0.0.${i % 256}`
    ),
  ],
];

let sunk = 0;
for (const [name, batch] of KINDS) {
  Deno.bench(`parse ${LINES.toLocaleString("en-US")} lines: ${name}`, () => {
    for (const line of batch) sunk += parseLine(line, "app.log", at).time.length;
  });
}
