/**
 * Logging: pino, JSON lines by default, human-readable with `--log-format pretty`.
 *
 * Every component logs through a child with a `component` field. Redaction is a backstop, not the
 * plan: code never logs secrets, and if a field with a secret's name slips into a log object anyway,
 * these paths censor it before it is written (pretty output included, as it formats the redacted line),
 * and every URL in a written line has its password, query values and API-key-like segments redacted.
 */
import { type DestinationStream, type Logger, pino } from 'pino';
import { PinoPretty } from 'pino-pretty';
import { redactText } from '../config/redact.ts';

export type { Logger } from 'pino';

/** Field names whose values are secrets wherever they appear (top level and up to three levels deep). */
export const SECRET_FIELDS = [
  'password',
  'passwd',
  'secret',
  'privateKey',
  'private_key',
  'privkey',
  'keyMaterial',
  'key',
  'wif',
  'seed',
  'mnemonic',
  'xprv',
  'apiKey',
  'token',
  'authorization',
  'cookie',
  'secretKey',
] as const;

/** Every path pino censors. Exported so the test can prove each one with a known secret. */
export const REDACT_PATHS: readonly string[] = [
  ...SECRET_FIELDS.flatMap((f) => [f, `*.${f}`, `*.*.${f}`, `*.*.*.${f}`]),
  'headers["proxy-authorization"]',
  '*.headers["proxy-authorization"]',
  'headers["set-cookie"]',
  '*.headers["set-cookie"]',
];

export const REDACTED_LOG_VALUE = '[redacted]';

export type LoggerOptions = {
  level: string;
  format: 'json' | 'pretty';
  /** File descriptor (default 1, stdout) or a stream; tests pass a stream to read what was written. */
  destination?: number | DestinationStream;
  /** Fields on every line. */
  base?: Record<string, unknown>;
};

export function createLogger(options: LoggerOptions): Logger {
  const destination = options.destination ?? 1;
  const stream: DestinationStream =
    options.format === 'pretty'
      ? PinoPretty({
          destination: typeof destination === 'number' ? destination : (destination as NodeJS.WritableStream),
          sync: true,
          colorize: typeof destination === 'number' && Boolean(process.stdout.isTTY) && destination === 1,
          ignore: 'pid,hostname',
        })
      : typeof destination === 'number'
        ? pino.destination({ fd: destination, sync: true })
        : destination;
  return pino(
    {
      level: options.level,
      base: options.base ?? {},
      redact: { paths: [...REDACT_PATHS], censor: REDACTED_LOG_VALUE },
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
      // The last backstop for URLs: whatever field or message carries one (an RPC URL with an API key, a
      // Redis URL with a password, an error quoting its request URL), the written line has it redacted.
      hooks: { streamWrite: redactText },
    },
    stream,
  );
}

/** The logger a component uses: every line carries `component`. */
export function componentLogger(root: Logger, component: string): Logger {
  return root.child({ component });
}
