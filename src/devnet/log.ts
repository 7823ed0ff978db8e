/**
 * The devnet's logger: the watcher's log lines go to stderr at `--log-level` (silent by default, so the
 * story on stdout stays readable), and every warning or error, whatever the level, is also offered to
 * the story: a refused transaction or a failed dispute job must never be invisible in a devnet run.
 * Lines are made by the daemon's own logger (createLogger), so they are redacted the same way.
 */
import type { Logger } from 'pino';
import { createLogger } from '../observability/logger.ts';

const LEVELS: Record<string, number> = {
  trace: 10,
  debug: 20,
  info: 30,
  warn: 40,
  error: 50,
  fatal: 60,
  silent: Number.POSITIVE_INFINITY,
};

export const DEVNET_LOG_LEVELS = Object.keys(LEVELS);

export type LogRecord = { level: string; msg: string; fields: Record<string, unknown> };

export function createDevnetLogger(o: {
  level: string;
  /** Warnings and errors, whatever the level (the story picks what it tells). */
  onWarning?: (r: LogRecord) => void;
  stderr?: (line: string) => void;
}): Logger {
  const chosen = LEVELS[o.level];
  if (chosen === undefined)
    throw new Error(`Unknown log level "${o.level}" (${DEVNET_LOG_LEVELS.join(', ')})`);
  const stderr = o.stderr ?? ((line: string) => process.stderr.write(line));
  const warn = LEVELS.warn as number;
  // The logger must make warnings even when stderr wants none: the story reads them.
  const level = chosen < warn ? o.level : 'warn';
  return createLogger({
    level,
    format: 'json',
    destination: {
      write(line: string) {
        let rec: Record<string, unknown>;
        try {
          rec = JSON.parse(line) as Record<string, unknown>;
        } catch {
          return;
        }
        const n = LEVELS[String(rec.level)] ?? 0;
        if (n >= chosen) stderr(line.endsWith('\n') ? line : `${line}\n`);
        if (n >= warn) o.onWarning?.({ level: String(rec.level), msg: String(rec.msg ?? ''), fields: rec });
      },
    },
  });
}
