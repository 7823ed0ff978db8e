import { NotImplementedError } from '../core/errors.ts';

/** Action for a command whose implementation lands later: a clear message and a distinct exit code. */
export function notImplemented(command: string, plannedIn: string): () => never {
  return () => {
    throw new NotImplementedError(command, plannedIn);
  };
}
