import type { LogEntry } from "../entry/entry.ts";

/**
 * An entry as the hub hands it out: numbered, named, and serialized to JSON once however
 * many clients and transports receive it.
 */
export class PublishedEntry {
  /** The stream's sequence number. */
  readonly seq: number;
  /** The id clients see and resume from. */
  readonly id: string;
  /** The entry itself. */
  readonly entry: LogEntry;
  /** The entry serialized once. */
  readonly json: string;
  /** `performance.now()` when it was published, for the read-to-send latency. */
  readonly publishedAt: number;

  /** An entry numbered `seq`, named `id`, serialized as `json`. */
  constructor(seq: number, id: string, entry: LogEntry, json: string, publishedAt: number) {
    this.seq = seq;
    this.id = id;
    this.entry = entry;
    this.json = json;
    this.publishedAt = publishedAt;
  }

  /** Approximate bytes it holds: its JSON and the entry it came from. */
  get weight(): number {
    return this.json.length * 2;
  }
}

const NON_ASCII = /[\u0080-\uffff]/;

/** The length of `text` in UTF-8, as TextEncoder writes it (a lone surrogate as U+FFFD). */
export function utf8Length(text: string): number {
  if (!NON_ASCII.test(text)) return text.length;
  let length = 0;
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (code < 0x80) length += 1;
    else if (code < 0x800) length += 2;
    else if (
      code >= 0xd800 && code <= 0xdbff && (text.charCodeAt(i + 1) & 0xfc00) === 0xdc00
    ) {
      length += 4;
      i++;
    } else length += 3;
  }
  return length;
}
