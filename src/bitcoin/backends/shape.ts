/** Checks a decoded reply against the shape the protocol promises; a mismatch is an unusable reply. */
import type { z } from 'zod';
import { TransientFault } from './errors.ts';

export function expectShape<S extends z.ZodType>(schema: S, value: unknown, what: string): z.infer<S> {
  const parsed = schema.safeParse(value);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const where = issue ? `${issue.path.join('.') || '(root)'}: ${issue.message}` : 'unexpected shape';
    throw new TransientFault(`${what}: unexpected reply (${where})`);
  }
  return parsed.data;
}
