/**
 * Who spent connector A (kick-off output 0), checked against the spending transaction itself: a
 * backend's word that "someone challenged" is never enough, since an operator that runs or fools the
 * backend would use it to make Vigil stand down. The spender is fetched, must hash to the txid the
 * backend named, and must spend A; it is then the graph's take (its txid is fixed by the graph), one of
 * Vigil's own challenge versions, or a challenge: input 0 spends A and output 0 is the graph's
 * challenge output, which the covenant's SINGLE|ANYONECANPAY signature binds, so no other shape can
 * spend A through the challenge leaf.
 *
 * A backend without a spent index (Core) finds a confirmed spender only in its last blocks; a daemon
 * that was down longer than that would lose sight of its own challenge. The spenders Vigil can name
 * itself (the graph's take, every version of its challenge, the challenge it follows) are then asked
 * for by txid, and checked the same way.
 */

import type { BitcoinBackend, TxStatus } from '../bitcoin/backends/types.ts';
import { txidHex } from '../bitcoin/codec/codec.ts';
import { hashToDisplayHex } from '../bitcoin/tx/serialize.ts';
import type { Tx } from '../bitcoin/tx/types.ts';
import { equalBytes } from '../core/bytes.ts';
import type { Graph } from '../dispute/graph/build.ts';
import { type ChallengeVersion, challengeVersions } from '../dispute/plan/fee-bump.ts';
import type { DisputeRecord } from '../dispute/records/store.ts';

export type ConnectorSpend =
  | { kind: 'unspent' }
  | { kind: 'ours'; txid: string; version: ChallengeVersion; status: TxStatus }
  | { kind: 'challenge'; txid: string; tx: Tx; status: TxStatus }
  | { kind: 'take'; txid: string; status: TxStatus }
  | { kind: 'unverified'; txid: string | undefined; reason: string };

/** Whether `tx` spends connector A through the challenge leaf's only possible shape. */
export function isChallengeOf(graph: Graph, tx: Tx, kickoffTxid: string): boolean {
  const input0 = tx.inputs[0];
  const expected = graph.txs.challenge.outputs[0];
  const output0 = tx.outputs[0];
  return (
    input0 !== undefined &&
    hashToDisplayHex(input0.prevTxid) === kickoffTxid &&
    input0.vout === 0 &&
    expected !== undefined &&
    output0 !== undefined &&
    output0.value === expected.value &&
    equalBytes(output0.script, expected.script)
  );
}

export async function connectorSpend(
  backend: BitcoinBackend,
  rec: DisputeRecord,
  graph: Graph,
): Promise<ConnectorSpend> {
  const spend = await backend.getOutspend(rec.kickoffTxid, 0);
  if (!spend.spent) return { kind: 'unspent' };
  if (spend.txid !== undefined) return spenderOf(backend, rec, graph, spend.txid);
  for (const txid of knownSpenders(rec, graph)) {
    const found = await backend.getTransaction(txid);
    if (found === undefined || !spendsConnectorA(found.tx, rec.kickoffTxid)) continue;
    return spenderOf(backend, rec, graph, txid);
  }
  return {
    kind: 'unverified',
    txid: undefined,
    reason:
      'the backend says connector A is spent but not by what, and no spender Vigil knows of is on chain',
  };
}

/** The txids that may spend connector A and that Vigil knows without a spent index. */
function knownSpenders(rec: DisputeRecord, graph: Graph): string[] {
  const ids = [txidHex(graph.txs.take), ...challengeVersions(rec.challenge).map((v) => v.txid)];
  if (rec.challenge.txid !== undefined) ids.push(rec.challenge.txid);
  return [...new Set(ids)];
}

function spendsConnectorA(tx: Tx, kickoffTxid: string): boolean {
  return tx.inputs.some((i) => hashToDisplayHex(i.prevTxid) === kickoffTxid && i.vout === 0);
}

/** The spender `txid`, fetched and checked against what the graph and the record allow. */
async function spenderOf(
  backend: BitcoinBackend,
  rec: DisputeRecord,
  graph: Graph,
  txid: string,
): Promise<ConnectorSpend> {
  const found = await backend.getTransaction(txid);
  if (found === undefined) {
    return { kind: 'unverified', txid, reason: 'the backend does not return the spending transaction' };
  }
  if (txidHex(found.tx) !== txid) {
    return { kind: 'unverified', txid, reason: `the backend returned ${txidHex(found.tx)} for ${txid}` };
  }
  if (!spendsConnectorA(found.tx, rec.kickoffTxid))
    return { kind: 'unverified', txid, reason: `${txid} does not spend connector A` };
  if (txid === txidHex(graph.txs.take)) return { kind: 'take', txid, status: found.status };
  const version = challengeVersions(rec.challenge).find((v) => v.txid === txid);
  if (version) return { kind: 'ours', txid, version, status: found.status };
  if (isChallengeOf(graph, found.tx, rec.kickoffTxid))
    return { kind: 'challenge', txid, tx: found.tx, status: found.status };
  return {
    kind: 'unverified',
    txid,
    reason: `${txid} spends connector A but is neither the take nor a challenge`,
  };
}
