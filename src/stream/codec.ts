import type { PublishedEntry } from "./published_entry.ts";
import { utf8Length } from "./published_entry.ts";

/** What a heartbeat may say about the server sending it. */
export interface HeartbeatStats {
  /** Clients of the server sending the heartbeat. */
  readonly activeClients: number;
  /** Seconds since the process started. */
  readonly uptimeSeconds: number;
}

/** A gap in what a resuming client receives. */
export interface Gap {
  /** `evicted`: older than the ring; `restart`: the client's id is from an earlier run. */
  readonly reason: "evicted" | "restart";
  /** The first and last ids missed, when any entry of this run was. */
  readonly from?: string;
  /** The last id missed. */
  readonly to?: string;
  /** How many entries of this run were missed. */
  readonly missed: number;
  /** The id the client resumed from, for `restart`. */
  readonly lastEventId?: string;
}

/** What a transport knows of one client when greeting it. */
export interface Greeting {
  /** The client's id. */
  readonly clientId: string;
  /** What the client missed, if it resumed from entries no longer kept. */
  readonly gap: Gap | undefined;
}

/**
 * A wire format: how a transport frames entries and control messages. The hub encodes each
 * entry once per codec, however many clients use it, and never looks inside a frame.
 */
export interface Codec {
  /** `sse`, `ws` or `tcp`: the transport's name in status and metrics. */
  readonly transport: string;
  /** One frame per entry, in order; frames may be views of one shared buffer. */
  encode(entries: readonly PublishedEntry[]): Uint8Array[];
  /** What a client gets first, before any entry; undefined for nothing. */
  greeting(greeting: Greeting): Uint8Array | undefined;
  /** A keep-alive frame; undefined when this codec has none. */
  heartbeat(stats: HeartbeatStats, now: Date): Uint8Array | undefined;
  /** The last frame before the server closes a client, e.g. an SSE `disconnect` event. */
  farewell(reason: string): Uint8Array | undefined;
}

const encoder = new TextEncoder();

/**
 * Encodes the texts of a batch in one call (one call per entry would cost more than
 * serializing it) and returns each text's bytes as a view of the shared buffer, so frames
 * published together stay adjacent and a client's writer sends them without copying.
 */
export function encodeTexts(texts: readonly string[]): Uint8Array[] {
  const joined = texts.join("");
  const bytes = encoder.encode(joined);
  // As many bytes as characters: all ASCII, so each frame's length is its text's.
  const ascii = bytes.length === joined.length;
  const frames: Uint8Array[] = new Array(texts.length);
  let offset = 0;
  for (let i = 0; i < texts.length; i++) {
    const length = ascii ? texts[i]!.length : utf8Length(texts[i]!);
    frames[i] = bytes.subarray(offset, offset + length);
    offset += length;
  }
  return frames;
}
