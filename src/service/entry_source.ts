import type { StreamConfig } from "../config/types.ts";
import type { Log } from "../log.ts";
import type { MonitorStats } from "../monitor/monitor.ts";
import type { Hub, HubHistory } from "../stream/hub.ts";
import { FileSource } from "./file_source.ts";
import { NatsSource } from "./nats_source.ts";
import type { StreamTransform } from "./stream_transform.ts";

/**
 * Where a stream's entries come from: its files (`[streams.monitor]`, maybe also published
 * to JetStream) or JetStream subjects (`[streams.source]`). Either one feeds the hub; the
 * rest of the stream does not know which.
 */
export interface EntrySource {
  /** Starts feeding the hub; resolves once a first look is done (the files' first scan). */
  start(): Promise<void>;
  /** Whether {@linkcode EntrySource.start} has finished. */
  readonly started: boolean;
  /** Resolves once everything the source opened is closed after the stream's signal aborts. */
  readonly finished: Promise<unknown>;
  /** The monitor's numbers, for a file source. */
  monitorStats(): MonitorStats | undefined;
  /** The `publish` or `source` section of the stream's status, when it has one. */
  natsStatus(): Record<string, unknown> | undefined;
  /** Entries older than the hub's ring, when the source keeps them (JetStream). */
  readonly history?: HubHistory | undefined;
}

/** How to open a stream's source. */
export interface EntrySourceOptions {
  /** The stream: its files or its NATS source, and its publishing. */
  readonly config: StreamConfig;
  /** Where the entries go. */
  readonly hub: Hub;
  /** Applied to what the files give before anything else sees it, publishing included. */
  readonly transform: StreamTransform;
  /** Stops the source when aborted. */
  readonly signal: AbortSignal;
  /** How long pending publishes may take to be acknowledged at shutdown. */
  readonly drainMs: number;
  /** Where problems are reported. */
  readonly log: Log;
}

/**
 * The source `config` asks for. Throws a `StartupError` when a NATS credential file cannot
 * be read or the host name is needed and not allowed.
 */
export async function openEntrySource(options: EntrySourceOptions): Promise<EntrySource> {
  return options.config.source
    ? await NatsSource.open(options, options.config.source)
    : await FileSource.open(options);
}
