/** Where a client's `Last-Event-ID` points, as far as this stream can tell. */
export type ResumePoint =
  /** An entry of this stream's current numbering. */
  | { readonly seq: number }
  /** An id from an earlier run of LogWisp, whose numbering this run does not share. */
  | { readonly earlierRun: true };

/** How a stream names its entries on the wire, and reads back the ids clients resume from. */
export interface EventIds {
  /** The wire id of sequence number `seq`. */
  format(seq: number): string;
  /** What `id` refers to, or undefined when it is no id of this scheme. */
  parse(id: string): ResumePoint | undefined;
}

const RUN_ID = /^(\d{1,16})-(\d{1,16})$/;
const PLAIN_ID = /^\d{1,16}$/;

/**
 * Ids of a stream whose entries are numbered from 1 by each run of LogWisp: `<run>-<seq>`,
 * where `run` is the epoch milliseconds the run started. An id from another run is told
 * apart instead of being taken for one of this run's numbers, so a client reconnecting
 * after a restart is told about the discontinuity rather than silently skipping entries.
 * A bare number (typed by hand as `?last_event_id=N`) is a sequence number of this run.
 */
export function runEventIds(run: number): EventIds {
  const prefix = `${run}-`;
  return {
    format: (seq) => prefix + seq,
    parse(id) {
      const text = id.trim();
      if (PLAIN_ID.test(text)) return { seq: Number(text) };
      const match = RUN_ID.exec(text);
      if (!match) return undefined;
      return Number(match[1]) === run ? { seq: Number(match[2]) } : { earlierRun: true };
    },
  };
}

/**
 * Ids that are the source's own sequence numbers, shared by every LogWisp serving the same
 * source (JetStream stream sequences): a client may resume on any of them.
 */
export const SEQUENCE_EVENT_IDS: EventIds = {
  format: (seq) => String(seq),
  parse(id) {
    const text = id.trim();
    return PLAIN_ID.test(text) ? { seq: Number(text) } : undefined;
  },
};
