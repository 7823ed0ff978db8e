/**
 * An append-only JSON-lines file of a served devnet's directory (claims.jsonl, commits.jsonl): a header
 * line naming the format, then one JSON object per record, each appended and fsynced on its own, so a
 * record costs its own bytes and not the history's. A crash in the middle of an append leaves a torn last
 * line (no newline, or not JSON): it is dropped when the file is opened — the record it was is treated as
 * never written, which the callers allow for by writing a record before they act on it. A torn line
 * anywhere but at the end is damage, not a crash, and an error naming the file and the line.
 */
import { closeSync, fsyncSync, openSync, readFileSync, truncateSync, writeSync } from 'node:fs';
import type { z } from 'zod';
import { ServeDirError } from './serve-dir-errors.ts';

export type JournalFile<T> = {
  /** The records read when the file was opened, in order. */
  readonly records: readonly T[];
  /** Appends one record and fsyncs it: on disk when this returns. */
  append(record: T): void;
  /** Closes the file (a later append opens it again). */
  close(): void;
};

/** Format strings of files this version refuses, each with the reason a person is told. */
export type OlderFormats = Readonly<Record<string, string>>;

function headerFormat(line: string): unknown {
  try {
    return (JSON.parse(line) as { format?: unknown } | null)?.format;
  } catch {
    return undefined;
  }
}

/**
 * Opens (or, on the first append, creates) the journal at `path`. Records are checked with `shape`;
 * `what` names the file in errors.
 */
export function openJournal<T>(
  path: string,
  format: string,
  older: OlderFormats,
  shape: z.ZodType<T>,
  what: string,
): JournalFile<T> {
  let text: string | undefined;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') {
      throw new ServeDirError(`${what} ${path} cannot be read`, { cause: err });
    }
  }
  const records: T[] = [];
  let header = false;
  if (text !== undefined && text.length > 0) {
    const lines = text.split('\n');
    // A file ends with '\n': the last element is '' for a whole file, the torn rest otherwise.
    const torn = lines.pop() as string;
    let good = text.length - torn.length;
    lines.forEach((line, i) => {
      if (i === 0) {
        const f = headerFormat(line);
        if (typeof f === 'string' && older[f] !== undefined) {
          throw new ServeDirError(`${what} ${path} was written by an older Vigil (${f}); ${older[f]}`, {
            metaMessages: ['Serve a new directory (--dir), or delete this one to start over.'],
          });
        }
        if (f !== format) throw new ServeDirError(`${what} ${path} is not a ${format} file: its first line`);
        header = true;
        return;
      }
      let json: unknown;
      try {
        json = JSON.parse(line);
      } catch (err) {
        if (i === lines.length - 1) {
          // The last newline-ended line torn: a crash after a partial write that happened to hold '\n'
          // cannot happen (a record is one line), but a truncated file system block can; drop it too.
          good -= line.length + 1;
          return;
        }
        throw new ServeDirError(`${what} ${path} is damaged at line ${i + 1}: not JSON`, { cause: err });
      }
      const parsed = shape.safeParse(json);
      if (!parsed.success) {
        const issue = parsed.error.issues[0];
        throw new ServeDirError(
          `${what} ${path} is not a ${format} file: line ${i + 1}: ${issue?.path.join('.') || '(root)'}: ${issue?.message}`,
        );
      }
      records.push(parsed.data);
    });
    if (good < text.length) {
      // Cut the torn record off, so the next append starts a line of its own.
      try {
        truncateSync(path, Buffer.byteLength(text.slice(0, good)));
      } catch (err) {
        throw new ServeDirError(`${what} ${path} has a torn last line that cannot be cut off`, {
          cause: err,
        });
      }
      if (good === 0) header = false;
    }
  }
  let fd: number | undefined;
  const write = (line: string) => {
    try {
      fd ??= openSync(path, 'a', 0o644);
      writeSync(fd, line);
      fsyncSync(fd);
    } catch (err) {
      throw new ServeDirError(`${what} ${path} cannot be written`, { cause: err });
    }
  };
  return {
    records,
    append(record) {
      if (!header) {
        write(`${JSON.stringify({ format })}\n`);
        header = true;
      }
      write(`${JSON.stringify(record)}\n`);
    },
    close() {
      if (fd !== undefined) closeSync(fd);
      fd = undefined;
    },
  };
}
