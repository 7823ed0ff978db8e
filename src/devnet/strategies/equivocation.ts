/**
 * Winternitz equivocation: two kick-off witnesses for one claim, same txid (the witness is not part of
 * it), different committed roots. The mempool first sees the one revealing the reference model's root
 * (it looks honest); the block mines the one revealing the operator's wrong root. The watcher must judge
 * what the chain holds.
 */
import { txidHex } from '../../bitcoin/tx/serialize.ts';
import { equalBytes } from '../../core/bytes.ts';
import { completeKickoff } from '../../dispute/graph/spend.ts';
import type { OperatorStrategy } from './types.ts';

export const equivocationStrategy: OperatorStrategy = {
  name: 'winternitz-equivocation',
  doc: 'for a wrong claim it broadcasts a kick-off revealing the right root and has the block mine one revealing its wrong root (same txid)',
  expect: 'slashed-by-disprove',
  hooks: () => ({
    kickoff: (k) => {
      const real = completeKickoff(k.graph, k.operatorSecret, k.secrets, k.values).tx;
      if (k.referenceRoot === undefined || equalBytes(k.referenceRoot, k.values.stateRoot)) {
        return { broadcast: real };
      }
      const decoy = completeKickoff(k.graph, k.operatorSecret, k.secrets, {
        ...k.values,
        stateRoot: k.referenceRoot,
      }).tx;
      if (txidHex(decoy) !== txidHex(real)) throw new Error('two kick-off witnesses gave two txids');
      return { broadcast: decoy, mineInstead: real };
    },
  }),
};
