/**
 * The test circuit of the dispute graph: the step function is the identity, so a step is wrong exactly
 * when its post-state root differs from its pre-state root. It stands in the graph's disprove leaves
 * until the real step circuits (hash and limb arithmetic of one governance step) arrive.
 */
import { Op } from '../src/bitcoin/script/opcodes.ts';
import { equalBytes } from '../src/core/bytes.ts';
import type { StepCircuit } from '../src/dispute/graph/scripts.ts';

export const identityStepCircuit: StepCircuit = {
  id: 'test-identity-v1',
  append: (b, n) => {
    for (let j = n - 1; j >= 0; j--) b.number(j + 1).op(Op.OP_ROLL, Op.OP_NUMEQUAL, Op.OP_TOALTSTACK);
    b.op(Op.OP_FROMALTSTACK);
    for (let j = 1; j < n; j++) b.op(Op.OP_FROMALTSTACK, Op.OP_BOOLAND);
    return b.op(Op.OP_NOT);
  },
  isFaulty: (pre, post) => !equalBytes(pre, post),
  test: true,
};
