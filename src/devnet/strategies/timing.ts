/**
 * Attacks on timing: the operator acts at the very edge of each window, where an off-by-one in the
 * watcher's deadlines would let it through.
 */
import { completeTake } from '../../dispute/graph/spend.ts';
import type { OperatorStrategy } from './types.ts';

/** Asserts so the assert is mined in the last block before the assert-timeout becomes valid. */
export const assertLastBlockStrategy: OperatorStrategy = {
  name: 'assert-last-block',
  doc: 'when challenged it waits and asserts its trace in the last block of the assert window',
  expect: 'slashed-by-disprove',
  hooks: () => ({
    assert: (c, api) => {
      // The assert-timeout is valid from kick-off height + T_a: the last block the assert can win is
      // the one before.
      if (c.kickoffHeight === undefined) return 'wait';
      const last = c.kickoffHeight + api.params.timelocks.assertWindow - 1;
      return api.next() < last ? 'wait' : c.checkpoints.slice(0, api.params.traceSteps);
    },
  }),
};

/**
 * Broadcasts the take every block from the kick-off on, so it enters the mempool in the very first
 * block it is valid (BIP-68), racing a challenge that comes late.
 */
export const takeFirstBlockStrategy: OperatorStrategy = {
  name: 'take-at-first-block',
  doc: 'it sends the take every block from the kick-off on, so the take lands at the first block it is valid',
  expect: 'slashed-by-disprove',
  hooks: () => ({
    round: async (api) => {
      for (const c of api.claims()) {
        if (c.state !== 'kicked-off' || c.kickoffHeight === undefined) continue;
        if (api.next() >= c.kickoffHeight + c.graph.spec.params.timelocks.challengeWindow) {
          await api.sendTake(c, 'its first valid block');
        } else {
          // Refused until valid (non-BIP68-final): the refusal is the point, not news.
          await api.broadcast(completeTake(c.graph, c.sigs).tx, 'early take');
        }
      }
    },
  }),
};
