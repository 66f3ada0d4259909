import type { LogEntry } from "../entry/entry.ts";
import { type EntryOrigin, Monitor, type MonitorStats } from "../monitor/monitor.ts";
import {
  JetStreamPublisher,
  natsMessageId,
  publishHost,
  type PublishItem,
} from "../nats/publisher.ts";
import type { Hub } from "../stream/hub.ts";
import type { EntrySource, EntrySourceOptions } from "./entry_source.ts";
import { StartupError } from "./startup_error.ts";

/**
 * A stream's files: the monitor feeds the hub and, with `[streams.publish]`, JetStream too
 * (README "Scaling out with NATS"). Each entry goes to the stream's own clients first; then
 * the monitor waits while the publisher's pending set is full, so reading pauses (and
 * resumes where it stopped) only when NATS is away for longer than `max_pending_entries`.
 */
export class FileSource implements EntrySource {
  readonly #monitor: Monitor;
  readonly #publisher: JetStreamPublisher | undefined;
  readonly #finished: Promise<unknown>[] = [];

  private constructor(
    options: EntrySourceOptions,
    publisher: { publisher: JetStreamPublisher; host: string } | undefined,
  ) {
    const { config, hub, signal, log } = options;
    if (!config.monitor) throw new StartupError(`stream "${config.name}": no monitor configured`);
    this.#publisher = publisher?.publisher;
    const receive = publisher
      ? publishing(hub, publisher.publisher, publisher.host, config.name)
      : (entries: readonly LogEntry[]) => hub.publishAll(entries);
    this.#monitor = new Monitor({
      config: config.monitor,
      // Redaction happens before entries reach clients or leave the host.
      onEntries: (entries, origins) => {
        const kept = options.transform.applyPaired(entries, origins);
        return receive(kept.entries, kept.paired);
      },
      signal,
      label: `stream "${config.name}"`,
      log,
    });
    const active = this.#publisher;
    if (active) {
      this.#finished.push(
        new Promise<void>((resolve) => {
          // Entries read before the shutdown get the drain time to be acknowledged.
          const close = () =>
            active.close({ flushMs: options.drainMs }).catch(() => {}).then(resolve);
          if (signal.aborted) close();
          else signal.addEventListener("abort", close, { once: true });
        }),
      );
    }
  }

  /** Opens the publisher (when configured); NATS need not be reachable yet. */
  static async open(options: EntrySourceOptions): Promise<FileSource> {
    const { config, log } = options;
    if (!config.publish) return new FileSource(options, undefined);
    let host: string;
    try {
      host = publishHost(config.publish);
    } catch (error) {
      throw new StartupError(`stream "${config.name}": publish: ${(error as Error).message}`);
    }
    const publisher = await JetStreamPublisher.open({
      config: config.publish,
      stream: config.name,
      host,
      log,
    });
    return new FileSource(options, { publisher, host });
  }

  async start(): Promise<void> {
    await this.#monitor.start();
    this.#finished.push(this.#monitor.finished);
  }

  get started(): boolean {
    return this.#monitor.started;
  }

  get finished(): Promise<unknown> {
    return Promise.all(this.#finished);
  }

  monitorStats(): MonitorStats {
    return this.#monitor.stats();
  }

  natsStatus(): Record<string, unknown> | undefined {
    const publisher = this.#publisher;
    if (!publisher) return undefined;
    const stats = publisher.stats;
    return {
      publish: {
        type: "nats",
        state: stats.state,
        subject: publisher.subject,
        published_entries: stats.published,
        duplicates: stats.duplicates,
        pending_entries: stats.pending,
        retries: stats.retries,
        shortened_entries: stats.shortened,
      },
    };
  }
}

/** The monitor's receiver when publishing: the hub first, then the publisher's pending set. */
function publishing(
  hub: Hub,
  publisher: JetStreamPublisher,
  host: string,
  stream: string,
): (entries: readonly LogEntry[], origins: readonly EntryOrigin[]) => Promise<void> {
  return async (entries, origins) => {
    await hub.publishAll(entries);
    const items: PublishItem[] = entries.map((entry, i) => {
      const origin = origins[i]!;
      return {
        entry,
        id: natsMessageId({ host, stream, file: origin.file, offset: origin.offset }),
      };
    });
    await publisher.publish(items);
  };
}
