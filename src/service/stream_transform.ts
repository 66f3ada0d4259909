import type { TransformConfig } from "../config/types.ts";
import type { LogEntry } from "../entry/entry.ts";
import { compileTransform, type Transform } from "../filter/transform.ts";

/**
 * A stream's `[streams.transform]` applied to each batch a read produced, before the hub:
 * the entries it keeps, changed as configured, and a count of those it drops.
 */
export class StreamTransform {
  readonly #config: TransformConfig | undefined;
  readonly #transform: Transform | undefined;
  #filtered = 0;
  #failed = 0;

  /** Compiles `config`; without one, entries pass unchanged. */
  constructor(config: TransformConfig | undefined) {
    this.#config = config;
    this.#transform = config === undefined ? undefined : compileTransform(config);
  }

  /** The entries to publish; `entries` itself when there is no transform. */
  apply(entries: readonly LogEntry[]): readonly LogEntry[] {
    return this.applyPaired(entries, []).entries;
  }

  /**
   * As {@linkcode StreamTransform.apply}, keeping with each kept entry what `paired` holds
   * at its index (where it was read, for publishing).
   */
  applyPaired<T>(
    entries: readonly LogEntry[],
    paired: readonly T[],
  ): { entries: readonly LogEntry[]; paired: readonly T[] } {
    const transform = this.#transform;
    if (transform === undefined) return { entries, paired };
    const kept: LogEntry[] = [];
    const keptPaired: T[] = [];
    entries.forEach((entry, i) => {
      let result: LogEntry | undefined;
      try {
        result = transform(entry);
      } catch {
        // An entry the transform cannot handle (nesting beyond the stack) is not published
        // unredacted: it is dropped and counted.
        this.#failed++;
        result = undefined;
      }
      if (result === undefined) {
        this.#filtered++;
        return;
      }
      kept.push(result);
      if (i < paired.length) keptPaired.push(paired[i]!);
    });
    return { entries: kept, paired: keptPaired };
  }

  /** Entries dropped by the transform (`filtered_entries`). */
  get filtered(): number {
    return this.#filtered;
  }

  /** The transform's part of the stream's status; undefined without a transform. */
  status(): Record<string, unknown> | undefined {
    const config = this.#config;
    if (config === undefined) return undefined;
    return {
      ...(config.minLevel !== undefined && { min_level: config.minLevel }),
      include: config.include.length,
      exclude: config.exclude.length,
      redact: config.redact,
      redact_patterns: config.redactPatterns.length,
      drop_fields: config.dropFields,
      add_fields: Object.keys(config.addFields),
      strip_ansi: config.stripAnsi,
      filtered_entries: this.#filtered,
      failed_entries: this.#failed,
    };
  }
}
