/**
 * Files replaced whole: a reader (or a process started after a crash) sees the old content or the new,
 * never a mix. The text goes to a temporary file that is fsynced, renamed over the target, and the
 * directory is fsynced so the rename itself survives a power cut.
 */
import { closeSync, fsyncSync, openSync, renameSync, rmSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';
import { VigilError, type VigilErrorCategory } from '../core/errors.ts';

/** A file the user asked for cannot be written (a missing directory, no permission, a full disk). */
export class OutputFileError extends VigilError {
  override name = 'OutputFileError';
  override readonly category: VigilErrorCategory = 'usage';
}

/**
 * `writeFileAtomic` for a file a command was asked to write (`-o`, `--report`): a failure is one clear
 * line naming the file and `what` it is, and leaves neither the file nor its temporary behind.
 */
export function writeOutputFile(file: string, data: string, what: string): void {
  try {
    writeFileAtomic(file, data);
  } catch (err) {
    rmSync(`${file}.tmp-${process.pid}`, { force: true });
    const reason = (err as NodeJS.ErrnoException).code ?? (err instanceof Error ? err.message : String(err));
    throw new OutputFileError(`cannot write ${what} ${file}: ${reason}`, { cause: err });
  }
}

/** Replaces `file` with `data`; a file created here gets `mode`. */
export function writeFileAtomic(file: string, data: string, mode = 0o644): void {
  const tmp = `${file}.tmp-${process.pid}`;
  const fd = openSync(tmp, 'w', mode);
  try {
    writeSync(fd, data);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, file);
  fsyncDir(dirname(file));
}

function fsyncDir(dir: string): void {
  let fd: number | undefined;
  try {
    fd = openSync(dir, 'r');
    fsyncSync(fd);
  } catch {
    // Some file systems refuse to fsync a directory; the rename is still atomic there.
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}
