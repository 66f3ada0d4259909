/** A file-system event, as `Deno.watchFs` reports it. */
export interface FsEvent {
  /** What happened. */
  readonly kind: Deno.FsEvent["kind"];
  /** The paths it happened to. */
  readonly paths: readonly string[];
  /** `rescan`: events were lost; look at everything again. */
  readonly flag?: "rescan";
}

/** What the event source tells its owner. */
export interface FsEventsOptions {
  /** Receives every event. */
  readonly onEvent: (event: FsEvent) => void;
  /** A directory's watch ended or could not start; the poll covers it meanwhile. */
  readonly onLost: (directory: string) => void;
  /** The directories are watched: changes from now on are reported. */
  readonly onReady: () => void;
}

// Runs in the worker. Deno's watcher opens the path of every event to compare it with the
// watched paths (same_file::is_same_file): for a FIFO with no writer that open blocks the
// runtime's one notify thread for good, no event is delivered any more, and closing the
// watcher then blocks its thread too. Here that thread is the worker's, which the monitor
// can abandon, not the main thread serving every client.
const WORKER_SOURCE = `
self.onmessage = (message) => {
  for (const directory of message.data) {
    let watcher;
    try {
      watcher = Deno.watchFs(directory, { recursive: false });
    } catch (error) {
      self.postMessage({ lost: directory, reason: String(error) });
      continue;
    }
    (async () => {
      try {
        for await (const event of watcher) {
          self.postMessage({ kind: event.kind, paths: event.paths, flag: event.flag });
        }
      } catch {
        // Fall through: the watch ended.
      }
      self.postMessage({ lost: directory });
    })();
  }
  self.postMessage({ ready: true });
};
`;

let workerUrl: string | undefined;

/**
 * `Deno.watchFs` over a set of directories, run in a worker of its own so that a watcher
 * blocked on a FIFO (see {@linkcode FsEvents.watch}) costs that worker, not the process.
 */
export class FsEvents {
  readonly #options: FsEventsOptions;
  #worker: Worker | undefined;
  #directories: readonly string[] = [];

  /** An event source with no watch yet. */
  constructor(options: FsEventsOptions) {
    this.#options = options;
  }

  /** The directories watched now. */
  get directories(): readonly string[] {
    return this.#directories;
  }

  /**
   * Watches exactly `directories` from now on, in a new worker; the previous one is
   * terminated, whatever state its watcher is in. Events between the two are not
   * reported: the owner polls everything once `onReady` comes.
   */
  watch(directories: readonly string[]): void {
    this.close();
    this.#directories = [...directories];
    if (directories.length === 0) return;
    workerUrl ??= URL.createObjectURL(
      new Blob([WORKER_SOURCE], { type: "application/javascript" }),
    );
    const worker = new Worker(workerUrl, { type: "module" });
    worker.onmessage = (message: MessageEvent) => {
      if (worker !== this.#worker) return;
      const data = message.data;
      if (data.ready) this.#options.onReady();
      else if (typeof data.lost === "string") this.#options.onLost(data.lost);
      else this.#options.onEvent(data as FsEvent);
    };
    worker.onerror = (event) => {
      event.preventDefault();
      if (worker !== this.#worker) return;
      for (const directory of this.#directories) this.#options.onLost(directory);
    };
    worker.postMessage(directories);
    this.#worker = worker;
  }

  /** Stops reporting; never blocks, even when a watcher is stuck. */
  close(): void {
    this.#worker?.terminate();
    this.#worker = undefined;
    this.#directories = [];
  }
}
