/**
 * A stand-in for one LogWisp HTTP server in the viewer's browser tests: it serves the
 * viewer page and an SSE stream that speaks LogWisp's wire format, and lets the test push
 * entries, gaps and disconnects, drop every stream, or restart the whole server.
 *
 * Ids are `<run>-<seq>`: a restart starts a new run with an empty ring, so a client
 * resuming from an earlier run gets a `gap` first. Patterns with backreferences are
 * refused with a `400` although JavaScript accepts them, as a server with a linear-time
 * engine would; the page can only learn of such a refusal from the server.
 *
 * @module
 */
import { LEVELS, type LogEntry } from "../../entry/entry.ts";
import { viewerResponse } from "../viewer_page.ts";

/** What a test pushes: an entry without its time (now) or source (`app.log`) if it likes. */
export type TestEntry = Omit<LogEntry, "time" | "source"> & { time?: string; source?: string };

/** A request for the stream, as the server saw it. */
export interface StreamRequest {
  /** The query parameters. */
  readonly params: URLSearchParams;
  /** The `Last-Event-ID` header, or null. */
  readonly lastEventId: string | null;
}

interface Client {
  readonly controller: ReadableStreamDefaultController<Uint8Array>;
  readonly accepts: (entry: LogEntry) => boolean;
}

interface Stored {
  readonly seq: number;
  readonly entry: LogEntry;
}

class BadParameter extends Error {
  constructor(readonly parameter: string, message: string) {
    super(message);
  }
}

const encoder = new TextEncoder();

/** RFC 3339 with microseconds, like LogWisp's entries. */
function now(): string {
  return new Date().toISOString().replace("Z", "000Z");
}

function globRegExp(glob: string): RegExp {
  const body = glob.replace(/[.+^${}()|[\]\\]/g, "\\$&").replaceAll("*", ".*").replaceAll(
    "?",
    ".",
  );
  return new RegExp(`^${body}$`);
}

/** The client's filter from the query; throws BadParameter like LogWisp's `400`. */
function parseFilter(params: URLSearchParams): (entry: LogEntry) => boolean {
  let grep: RegExp | undefined;
  const pattern = params.get("grep");
  if (pattern !== null) {
    if (/\\[1-9]/.test(pattern)) {
      throw new BadParameter("grep", `Invalid "grep": backreferences are not supported`);
    }
    try {
      grep = new RegExp(pattern, params.get("icase") === "1" ? "i" : "");
    } catch (error) {
      throw new BadParameter("grep", `Invalid "grep": ${(error as Error).message}`);
    }
  }
  const level = params.get("level");
  const minimum = level === null ? -1 : LEVELS.indexOf(level.toUpperCase() as typeof LEVELS[0]);
  if (level !== null && minimum < 0) {
    throw new BadParameter("level", `Invalid "level": ${JSON.stringify(level)}`);
  }
  const tail = params.get("tail");
  if (tail !== null && !/^\d+$/.test(tail)) {
    throw new BadParameter("tail", `Invalid "tail": ${JSON.stringify(tail)}`);
  }
  const sources = params.getAll("source").map(globRegExp);
  return (entry) =>
    (grep === undefined || grep.test(entry.message)) &&
    (minimum < 0 || (entry.level !== undefined && LEVELS.indexOf(entry.level) >= minimum)) &&
    (sources.length === 0 || sources.some((glob) => glob.test(entry.source)));
}

/** A fake LogWisp HTTP server on 127.0.0.1; see the module documentation. */
export class FakeStreamServer implements AsyncDisposable {
  /** Every stream request so far, across restarts. */
  readonly requests: StreamRequest[] = [];
  readonly #ringSize: number;
  readonly #clients = new Set<Client>();
  #ring: Stored[] = [];
  #run = 1;
  #seq = 0;
  #port = 0;
  #server: Deno.HttpServer<Deno.NetAddr> | undefined;

  private constructor(ringSize: number) {
    this.#ringSize = ringSize;
  }

  /** Listens on a free port; `ringSize` entries are kept for resume and `tail`. */
  static start(options: { ringSize?: number } = {}): FakeStreamServer {
    const server = new FakeStreamServer(options.ringSize ?? 1000);
    server.#listen();
    return server;
  }

  /** `http://127.0.0.1:<port>`, the same across restarts. */
  get origin(): string {
    return `http://127.0.0.1:${this.#port}`;
  }

  /** Clients with an open stream. */
  get clients(): number {
    return this.#clients.size;
  }

  /** Stores `entries` and sends each to every client whose filter it passes. */
  push(entries: readonly TestEntry[]): void {
    for (const pushed of entries) {
      const entry: LogEntry = {
        time: pushed.time ?? now(),
        source: pushed.source ?? "app.log",
        ...(pushed.level !== undefined && { level: pushed.level }),
        message: pushed.message,
        ...(pushed.fields !== undefined && { fields: pushed.fields }),
      };
      const stored = { seq: ++this.#seq, entry };
      this.#ring.push(stored);
      if (this.#ring.length > this.#ringSize) this.#ring.shift();
      const frame = encoder.encode(this.#entryFrame(stored));
      for (const client of this.#clients) {
        if (client.accepts(entry)) client.controller.enqueue(frame);
      }
    }
  }

  /** Sends a `gap` event to every client. */
  gap(from: string | number, to: string | number): void {
    this.#broadcast(`event: gap\ndata: ${JSON.stringify({ from, to })}\n\n`);
  }

  /** Sends a JSON heartbeat event and a heartbeat comment to every client. */
  heartbeat(): void {
    const data = {
      type: "heartbeat",
      timestamp: new Date().toISOString(),
      active_clients: this.clients,
      uptime_seconds: 1,
    };
    this.#broadcast(`event: heartbeat\ndata: ${JSON.stringify(data)}\n\n: heartbeat\n\n`);
  }

  /** Sends `disconnect` to every client and ends their streams; they may reconnect. */
  disconnect(reason = "server_shutdown"): void {
    this.#broadcast(`event: disconnect\ndata: ${JSON.stringify({ reason })}\n\n`);
    this.drop();
  }

  /** Ends every stream without a word, as a broken connection would. */
  drop(): void {
    for (const client of this.#clients) client.controller.close();
    this.#clients.clear();
  }

  /** Shuts down like LogWisp (`disconnect`, then close) and starts a new run on the same port. */
  async restart(): Promise<void> {
    this.disconnect();
    await this.#server?.shutdown();
    this.#run++;
    this.#seq = 0;
    this.#ring = [];
    this.#listen();
  }

  /** Ends every stream and stops listening. */
  async [Symbol.asyncDispose](): Promise<void> {
    this.drop();
    await this.#server?.shutdown();
    this.#server = undefined;
  }

  #listen(): void {
    this.#server = Deno.serve(
      { hostname: "127.0.0.1", port: this.#port, onListen: () => {} },
      (request) => this.#handle(request),
    );
    this.#port = this.#server.addr.port;
  }

  #broadcast(text: string): void {
    const frame = encoder.encode(text);
    for (const client of this.#clients) client.controller.enqueue(frame);
  }

  #entryFrame(stored: Stored): string {
    return `id: ${this.#run}-${stored.seq}\ndata: ${JSON.stringify(stored.entry)}\n\n`;
  }

  #handle(request: Request): Response {
    const url = new URL(request.url);
    switch (url.pathname) {
      case "/":
        return viewerResponse(request, {
          stream: "app",
          streamPath: "/stream",
          statusPath: "/status",
        });
      case "/stream":
        return this.#stream(request, url.searchParams);
      case "/status":
        return Response.json({ service: "LogWisp", stream: "app", clients: this.clients });
      default:
        return Response.json({ error: `No endpoint at ${JSON.stringify(url.pathname)}` }, {
          status: 404,
        });
    }
  }

  #stream(request: Request, params: URLSearchParams): Response {
    const lastEventId = request.headers.get("Last-Event-ID");
    this.requests.push({ params, lastEventId });
    let accepts: (entry: LogEntry) => boolean;
    try {
      accepts = parseFilter(params);
    } catch (error) {
      if (!(error instanceof BadParameter)) throw error;
      return Response.json({ error: error.message, parameter: error.parameter }, {
        status: 400,
      });
    }
    let greeting = `retry: 3000\nevent: connected\ndata: ${
      JSON.stringify({
        client_id: crypto.randomUUID(),
        stream: "app",
        stream_path: "/stream",
        status_path: "/status",
        buffer_size: this.#ringSize,
      })
    }\n\n`;
    const matching = this.#ring.filter((stored) => accepts(stored.entry));
    const resume = lastEventId ?? params.get("last_event_id");
    if (resume !== null) {
      const [run, seq] = resume.split("-").map(Number);
      const first = this.#ring[0]?.seq ?? this.#seq + 1;
      if (run !== this.#run) {
        greeting += `event: gap\ndata: ${
          JSON.stringify({ from: resume, to: `${this.#run}-0` })
        }\n\n`;
      } else if (seq! + 1 < first) {
        greeting += `event: gap\ndata: ${
          JSON.stringify({ from: `${run}-${seq! + 1}`, to: `${run}-${first - 1}` })
        }\n\n`;
      }
      const after = run === this.#run ? seq! : 0;
      greeting += matching.filter((stored) => stored.seq > after).map((stored) =>
        this.#entryFrame(stored)
      ).join("");
    } else {
      const tail = Number(params.get("tail") ?? 0);
      if (tail > 0) greeting += matching.slice(-tail).map((s) => this.#entryFrame(s)).join("");
    }
    let client: Client;
    const body = new ReadableStream<Uint8Array>({
      start: (controller) => {
        controller.enqueue(encoder.encode(greeting));
        client = { controller, accepts };
        this.#clients.add(client);
      },
      cancel: () => {
        this.#clients.delete(client);
      },
    });
    return new Response(body, {
      headers: {
        "Content-Type": "text/event-stream",
        "Cache-Control": "no-cache",
        "X-Accel-Buffering": "no",
      },
    });
  }
}
