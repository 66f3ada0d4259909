import { join } from "node:path";
import type { Config } from "../config/types.ts";
import { fsErrorReason, isNotFound, OutsideReadPermissionError } from "../fs_error.ts";
import { quote } from "../log.ts";
import { compileGlob } from "../monitor/glob.ts";
import { ARCHIVE_NAME } from "../monitor/monitor.ts";
import { describeKind, resolveWithinReadPermission } from "../monitor/tail_file.ts";

/**
 * What `--check` says about targets that are valid but will not be followed as they are
 * now: missing (followed once they appear), unreadable, a FIFO or device in a file target's
 * place, a directory target that is a file, or one whose matches are only archives.
 */
export async function targetWarnings(config: Config): Promise<string[]> {
  const warnings: string[] = [];
  for (const stream of config.streams) {
    for (const target of stream.monitor?.targets ?? []) {
      const where = `stream "${stream.name}": ${target.isFile ? "file" : "directory"} ${
        quote(target.path)
      }`;
      let info: Deno.FileInfo;
      try {
        info = await Deno.stat(target.path);
      } catch (error) {
        warnings.push(
          isNotFound(error)
            ? `${where} does not exist (yet): it is followed once it appears`
            : `${where} cannot be read: ${fsErrorReason(error)}`,
        );
        continue;
      }
      const outside = await leadsOutside(target.path);
      if (outside !== undefined) {
        warnings.push(`${where}: ${outside}: it is not followed`);
        continue;
      }
      if (target.isFile) {
        if (!info.isFile) warnings.push(`${where} is ${describeKind(info)}: it is not followed`);
        continue;
      }
      if (!info.isDirectory) {
        warnings.push(`${where} is not a directory: use is_file = true for a single file`);
        continue;
      }
      const problem = await directoryProblem(target.path, target.pattern);
      if (problem) warnings.push(`${where} ${problem}`);
    }
  }
  return warnings;
}

async function directoryProblem(path: string, pattern: string): Promise<string | undefined> {
  const matches = compileGlob(pattern);
  let files = 0;
  let archives = 0;
  let special = 0;
  let outside = 0;
  try {
    for await (const entry of Deno.readDir(path)) {
      if (!matches(entry.name)) continue;
      if (ARCHIVE_NAME.test(entry.name)) archives++;
      else if (entry.isFile) files++;
      else if (!entry.isDirectory && !entry.isSymlink) special++;
      else if (
        entry.isSymlink && (await Deno.stat(join(path, entry.name)).catch(() => null))?.isFile
      ) {
        if (await leadsOutside(join(path, entry.name))) outside++;
        else files++;
      }
    }
  } catch (error) {
    return `cannot be listed: ${fsErrorReason(error)}`;
  }
  const notes: string[] = [];
  if (archives > 0) {
    notes.push(`${archives} compressed archive(s) matching ${quote(pattern)} are not followed`);
  }
  if (special > 0) {
    notes.push(
      `${special} FIFO(s), socket(s) or device(s) matching ${quote(pattern)} are not followed`,
    );
  }
  if (outside > 0) {
    notes.push(
      `${outside} link(s) matching ${quote(pattern)} lead outside the read permission ` +
        "(--allow-read) and are not followed",
    );
  }
  if (files === 0) notes.unshift(`has no file matching ${quote(pattern)} yet`);
  return notes.length > 0 ? notes.join("; ") : undefined;
}

/** Why `path` is not read when a link in it leads outside the read permission. */
async function leadsOutside(path: string): Promise<string | undefined> {
  try {
    await resolveWithinReadPermission(path);
    return undefined;
  } catch (error) {
    return error instanceof OutsideReadPermissionError ? error.message : undefined;
  }
}
