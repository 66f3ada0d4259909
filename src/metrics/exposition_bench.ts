import { Exposition } from "./exposition.ts";
import { READ_TO_SEND } from "./families.ts";
import { Histogram } from "./histogram.ts";
import { addProcessMetrics } from "./process_metrics.ts";
import {
  addReadFamilies,
  addServeFamilies,
  addStream,
  FILE_STATES,
  ROTATION_REASONS,
  sampleHistogram,
} from "./testdata/logwisp_sample.ts";

const names = (count: number) => Array.from({ length: count }, (_, i) => `stream-${i}`);
const histogram = sampleHistogram(1000);

/** Every stream family for each stream (52 samples a stream) and the latency histogram. */
function everyFamily(streams: readonly string[]): string {
  const exposition = new Exposition();
  for (const stream of streams) addStream(exposition, stream, 123_456);
  return exposition.add(READ_TO_SEND, {}, histogram.snapshot()).text();
}

/** A watched file's own counters, as a tailer keeps them. */
interface FileCounters {
  readonly stream: string;
  readonly entries: number;
  readonly bytes: number;
  readonly filtered: number;
  readonly truncated: number;
  readonly readErrors: number;
  readonly rotations: Readonly<Record<string, number>>;
  readonly state: string;
}

const FILES: FileCounters[] = Array.from({ length: 1000 }, (_, i) => ({
  stream: `stream-${i % 20}`,
  entries: 1_000_000 + i,
  bytes: 150_000_000 + i,
  filtered: i % 11,
  truncated: i % 3,
  readErrors: i % 7 === 0 ? 1 : 0,
  rotations: Object.fromEntries(ROTATION_REASONS.map((reason, j) => [reason, (i + j) % 5])),
  state: FILE_STATES[i % 50 === 0 ? 2 : 0]!,
}));

type Sums = {
  entries: number;
  bytesRead: number;
  filtered: number;
  truncated: number;
  readErrors: number;
  rotations: Record<string, number>;
  files: Record<string, number>;
};

/**
 * What a scrape of 1,000 watched files costs: their counters summed per stream (paths are
 * never labels), then every family of each stream written.
 */
function thousandFiles(): string {
  const streams = new Map<string, Sums>();
  for (const file of FILES) {
    let sums = streams.get(file.stream);
    if (!sums) {
      sums = {
        entries: 0,
        bytesRead: 0,
        filtered: 0,
        truncated: 0,
        readErrors: 0,
        rotations: Object.fromEntries(ROTATION_REASONS.map((reason) => [reason, 0])),
        files: Object.fromEntries(FILE_STATES.map((state) => [state, 0])),
      };
      streams.set(file.stream, sums);
    }
    sums.entries += file.entries;
    sums.bytesRead += file.bytes;
    sums.filtered += file.filtered;
    sums.truncated += file.truncated;
    sums.readErrors += file.readErrors;
    for (const reason in file.rotations) sums.rotations[reason]! += file.rotations[reason]!;
    sums.files[file.state]! += 1;
  }
  const exposition = new Exposition();
  for (const [stream, sums] of streams) {
    addReadFamilies(exposition, stream, sums);
    addServeFamilies(exposition, stream, 1);
  }
  return exposition.add(READ_TO_SEND, {}, histogram.snapshot()).text();
}

const kib = (text: string) => `${(new TextEncoder().encode(text).length / 1024).toFixed(1)} KiB`;
const STREAMS_50 = names(50);
const STREAMS_1000 = names(1000);

let sunk = 0;
Deno.bench(`50 streams × every family (${kib(everyFamily(STREAMS_50))})`, () => {
  sunk += everyFamily(STREAMS_50).length;
});
Deno.bench(`1,000 watched files in 20 streams, summed per stream (${kib(thousandFiles())})`, () => {
  sunk += thousandFiles().length;
});
Deno.bench(`1,000 streams × every family (${kib(everyFamily(STREAMS_1000))})`, () => {
  sunk += everyFamily(STREAMS_1000).length;
});
Deno.bench("process metrics (/proc/self/fd read only under --allow-all)", async () => {
  const exposition = new Exposition();
  await addProcessMetrics(exposition);
  sunk += exposition.text().length;
});

const LATENCIES = Array.from(
  { length: 1000 },
  (_, i) => 0.00004 * (1 + (i % 25)) + (i % 100 === 0 ? 0.3 : 0),
);
const observed = new Histogram();
Deno.bench("Histogram.observe × 1,000 (most below 1 ms)", () => {
  for (const latency of LATENCIES) observed.observe(latency);
});
Deno.bench("Histogram.snapshot", () => {
  sunk += observed.snapshot().count;
});
