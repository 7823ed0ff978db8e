/**
 * What the imports of a published graph share (import.ts for Part II's graph, game/claim-import.ts for a
 * claim with its games): echoing operator text into refusals, the version and schema checks, and running
 * an import's steps either at once or with turns for the event loop between them.
 */
import type { z } from 'zod';
import { GraphImportError } from './errors.ts';

/** Echoes operator-chosen text into an error message, never more than a few words of it. */
export const echo = (v: unknown): string => {
  const t = String(v);
  return t.length > 32 ? `${t.slice(0, 32)}…` : t;
};

export const isRecord = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

/** Refuses a document of another version (UNSUPPORTED_VERSION), then one the schema refuses (MALFORMED). */
export function versionedDocument<T>(
  raw: unknown,
  version: number | readonly number[],
  schema: z.ZodType<T>,
  beforeSchema?: () => void,
): T {
  const versions = typeof version === 'number' ? [version] : version;
  if (isRecord(raw) && 'version' in raw && !versions.includes(raw.version as number)) {
    throw new GraphImportError(
      'UNSUPPORTED_VERSION',
      'version',
      `version ${echo(raw.version)}; this Vigil reads version ${versions.join(' or ')}`,
    );
  }
  beforeSchema?.();
  const parsed = schema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new GraphImportError(
      'MALFORMED',
      issue?.path.join('.') || 'document',
      issue?.message ?? 'does not match the schema',
    );
  }
  return parsed.data;
}

/** Runs an import's steps to its verdict at once. */
export function runSteps<T>(steps: Generator<void, T, void>): T {
  for (;;) {
    const r = steps.next();
    if (r.done) return r.value;
  }
}

const nextTurn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/**
 * Runs an import's steps for a caller on the event loop: the same verdict, but it gives the loop a turn
 * whenever it has held it for `sliceMs`, so verifying a large graph does not stall timers, health checks
 * or the queue.
 */
export async function runStepsYielding<T>(steps: Generator<void, T, void>, sliceMs: number): Promise<T> {
  let since = performance.now();
  for (;;) {
    const r = steps.next();
    if (r.done) return r.value;
    if (performance.now() - since >= sliceMs) {
      await nextTurn();
      since = performance.now();
    }
  }
}
