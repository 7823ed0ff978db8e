/**
 * A dispute transaction's role, from the graph outputs it spends: the one definition both the walk over
 * the chain (`collect.ts`) and the offline replay (`engine.ts`, which checks every role a bundle claims)
 * use. Pure.
 */
import { hashToHex } from '../bitcoin/codec/codec.ts';
import { txidHex } from '../bitcoin/tx/serialize.ts';
import type { Tx } from '../bitcoin/tx/types.ts';
import type { Graph } from '../dispute/graph/build.ts';
import type { BundleTxRole } from './bundle.ts';

export const outpointKey = (txid: string, vout: number): string => `${txid}:${vout}`;

/** The graph's own outpoints, by role: what names a spender (a challenge's txid is the challenger's). */
export type GraphOutpoints = {
  claim: string;
  kickoff: string;
  assert: string;
  payout: string;
  take: string;
};

export function graphOutpoints(graph: Graph): GraphOutpoints {
  return {
    claim: outpointKey(hashToHex(graph.spec.claim.txid), graph.spec.claim.vout),
    kickoff: txidHex(graph.txs.kickoff),
    assert: txidHex(graph.txs.assert),
    payout: txidHex(graph.txs.payout),
    take: txidHex(graph.txs.take),
  };
}

/**
 * A spender's role from the graph outputs it spends. The take, the assert and the payout are presigned
 * in full, so their txids are fixed; the challenge, the assert-timeout and each disprove are completed by
 * whoever sends them (SINGLE|ACP), so only the connector they spend names them.
 */
export function roleInGraph(tx: Tx, txid: string, g: GraphOutpoints): BundleTxRole {
  const spends = new Set(tx.inputs.map((i) => outpointKey(hashToHex(i.prevTxid), i.vout)));
  const k = (vout: number) => spends.has(outpointKey(g.kickoff, vout));
  if (spends.has(g.claim)) return 'kickoff';
  if (txid === g.take || (k(0) && k(1))) return 'take';
  if (k(0)) return 'challenge';
  if (txid === g.assert || (k(1) && k(2))) return 'assert';
  if (k(2)) return 'assert-timeout';
  if (spends.has(outpointKey(g.assert, 0))) return txid === g.payout ? 'payout' : 'disprove';
  return 'other';
}
