/**
 * Helpers shared by the tests: waiting on conditions with deadlines (never fixed sleeps)
 * and temporary directories that clean up after themselves.
 *
 * @module
 */

/** Waits until `condition` holds, checking every few milliseconds; fails after the deadline. */
export async function waitFor(
  condition: () => boolean | Promise<boolean>,
  options: { timeoutMs?: number; message?: string | (() => string) } = {},
): Promise<void> {
  const deadline = Date.now() + (options.timeoutMs ?? 10_000);
  while (!(await condition())) {
    if (Date.now() > deadline) {
      const message = typeof options.message === "function" ? options.message() : options.message;
      throw new Error(`Timed out waiting: ${message ?? condition.toString()}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

/** A temporary directory removed with everything in it when disposed. */
export async function tempDir(prefix = "logwisp_test_"): Promise<
  { path: string } & AsyncDisposable
> {
  const path = await Deno.makeTempDir({ prefix });
  return { path, [Symbol.asyncDispose]: () => Deno.remove(path, { recursive: true }) };
}

/** Appends `text` to the file at `path`, creating it when missing. */
export async function append(path: string, text: string): Promise<void> {
  await Deno.writeTextFile(path, text, { append: true });
}
