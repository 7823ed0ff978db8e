/**
 * Asserts with one trace root replaced by a value nobody computed: the watcher must still find a step
 * it can disprove, whichever position the lie is at (r_0 is not bound to anything yet, protocol §21,
 * so a lie there must not hide the real divergence further on).
 */
import { concatBytes, utf8 } from '../../core/bytes.ts';
import { sha256 } from '../../core/hashes.ts';
import type { OperatorStrategy } from './types.ts';

export function wrongRootStrategy(position: number): OperatorStrategy {
  return {
    name: `wrong-root-${position}`,
    doc: `when challenged it asserts a trace whose root r_${position} is made up`,
    expect: 'slashed-by-disprove',
    hooks: () => ({
      assert: (c, api) => {
        const trace: Uint8Array[] = c.checkpoints
          .slice(0, api.params.traceSteps)
          .map((r) => Uint8Array.from(r));
        if (position >= trace.length) return trace;
        trace[position] = sha256(
          concatBytes(utf8(`vigil devnet wrong root ${position} epoch `), utf8(c.epoch.toString())),
        );
        return trace;
      },
    }),
  };
}
