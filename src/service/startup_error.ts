/** LogWisp could not start, e.g. a port is in use; the CLI prints it and exits 1. */
export class StartupError extends Error {
  /** A startup failure described by `message`. */
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "StartupError";
  }
}
