import type { NatsSourceConfig } from "../config/types.ts";
import { JetStreamSource } from "../nats/jetstream_source.ts";
import type { HubHistory } from "../stream/hub.ts";
import type { EntrySource, EntrySourceOptions } from "./entry_source.ts";

/**
 * A stream fed from JetStream subjects (`[streams.source]`): entries keep their JetStream
 * stream sequence as their number, so event ids are the same on every LogWisp serving the
 * subjects and a client resumes on any of them. A LogWisp starting afresh first reads as
 * many of the latest sequences as its ring keeps, so clients resume across its restart.
 */
export class NatsSource implements EntrySource {
  readonly #source: JetStreamSource;
  readonly #config: NatsSourceConfig;
  readonly finished: Promise<unknown>;
  /** Resume and `tail` beyond the ring read JetStream, as far as its retention reaches. */
  readonly history: HubHistory = {
    range: async (afterSeq, untilSeq) => {
      const page = await this.#source.history(afterSeq, untilSeq - afterSeq, { untilSeq });
      return { entries: page.entries, firstSeq: page.firstSeq };
    },
    last: (count, beforeSeq, accept) =>
      this.#source.last(count, { beforeSeq, match: (item) => accept(item.entry) }),
  };

  private constructor(source: JetStreamSource, config: NatsSourceConfig, signal: AbortSignal) {
    this.#source = source;
    this.#config = config;
    this.finished = new Promise<void>((resolve) => {
      const close = () => source.close().catch(() => {}).then(resolve);
      if (signal.aborted) close();
      else signal.addEventListener("abort", close, { once: true });
    });
  }

  /** Starts reading in the background; NATS need not be reachable yet. */
  static async open(options: EntrySourceOptions, config: NatsSourceConfig): Promise<NatsSource> {
    const { hub } = options;
    const source = await JetStreamSource.open({
      config,
      stream: options.config.name,
      log: options.log,
      // As many as the ring keeps for resume and `tail`.
      backfill: options.config.http?.bufferSize ?? 0,
      onEntries: (batch) =>
        hub.publishAll(batch.map((item) => item.entry), batch.map((item) => item.seq)),
    });
    return new NatsSource(source, config, options.signal);
  }

  /** Nothing to scan: entries arrive whenever NATS delivers them. */
  start(): Promise<void> {
    return Promise.resolve();
  }

  get started(): boolean {
    return true;
  }

  monitorStats(): undefined {
    return undefined;
  }

  natsStatus(): Record<string, unknown> {
    const stats = this.#source.stats;
    return {
      source: {
        type: "nats",
        state: stats.state,
        jetstream_stream: this.#config.jetstreamStream,
        subjects: this.#config.subjects,
        delivered_entries: stats.delivered,
        invalid_messages: stats.invalid,
        last_seq: stats.lastSeq,
      },
    };
  }
}
