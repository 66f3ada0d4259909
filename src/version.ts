/** LogWisp's version, reported by `--version` and in every status response. */
export const VERSION = "1.0.0";
