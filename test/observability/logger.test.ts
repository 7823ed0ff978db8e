import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import {
  componentLogger,
  createLogger,
  REDACT_PATHS,
  REDACTED_LOG_VALUE,
} from '../../src/observability/logger.ts';

const SECRET = 'L1uyy5qTuGrVXrmrsvHWHgVzW9kKdrp27wBC7Vs6nZDTF2BRUVwy';

function capture(): { stream: Writable; text: () => string } {
  let out = '';
  const stream = new Writable({
    write(chunk: Buffer, _enc, cb) {
      out += chunk.toString();
      cb();
    },
  });
  return { stream, text: () => out };
}

/** An object with `value` at the location a redaction path describes (`*` becomes a field name). */
function objectAt(path: string, value: unknown): Record<string, unknown> {
  const segments = [...path.matchAll(/([^.[\]"]+)|\["([^"]+)"\]/g)].map((m) => (m[1] ?? m[2]) as string);
  const root: Record<string, unknown> = {};
  let node = root;
  segments.forEach((seg, i) => {
    const name = seg === '*' ? `level${i}` : seg;
    if (i === segments.length - 1) node[name] = value;
    else {
      node[name] = {};
      node = node[name] as Record<string, unknown>;
    }
  });
  return root;
}

describe.each(['json', 'pretty'] as const)('logger (%s)', (format) => {
  it('censors a known secret at every redaction path', () => {
    const out = capture();
    const log = componentLogger(createLogger({ level: 'info', format, destination: out.stream }), 'test');
    for (const [i, path] of REDACT_PATHS.entries()) log.info(objectAt(path, SECRET), `redaction path #${i}`);
    const text = out.text();
    for (const i of REDACT_PATHS.keys()) expect(text).toContain(`redaction path #${i}`);
    expect(text).not.toContain(SECRET);
    expect(text.split(REDACTED_LOG_VALUE).length - 1).toBeGreaterThanOrEqual(REDACT_PATHS.length);
  });

  it('writes the same value under a field that is not secret (the capture works)', () => {
    const out = capture();
    createLogger({ level: 'info', format, destination: out.stream }).info({ note: SECRET }, 'control');
    expect(out.text()).toContain(SECRET);
  });

  it('puts the component on every line of a child logger', () => {
    const out = capture();
    componentLogger(createLogger({ level: 'info', format, destination: out.stream }), 'l2-ingest').warn(
      'hello',
    );
    expect(out.text()).toMatch(format === 'json' ? /"component":"l2-ingest"/ : /component: "l2-ingest"/);
  });
});

describe('logger (json)', () => {
  it('writes one JSON object per line with level, time, msg', () => {
    const out = capture();
    const log = createLogger({ level: 'debug', format: 'json', destination: out.stream });
    log.debug({ n: 1 }, 'first');
    log.info('second');
    const lines = out
      .text()
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(lines.map((l) => [l.level, l.msg, typeof l.time])).toEqual([
      ['debug', 'first', 'string'],
      ['info', 'second', 'string'],
    ]);
  });

  it('drops lines below the level', () => {
    const out = capture();
    createLogger({ level: 'warn', format: 'json', destination: out.stream }).info('quiet');
    expect(out.text()).toBe('');
  });
});
