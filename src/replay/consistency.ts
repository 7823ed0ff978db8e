/**
 * What a bundle's transactions must satisfy together, beyond each script: a bundle is written by
 * anyone, so a transaction that verifies against prevouts its writer made up proves nothing. Each
 * input whose parent is in the bundle must spend exactly that parent's output; a child cannot confirm
 * before its parent, nor before its relative (BIP-68) or absolute timelock allows; no transaction pays
 * out more than it spends; each role must be the one the graph's outputs give; and legacy signature
 * checks, whose hashing grows with the square of a transaction's size, get a work budget so that a
 * crafted bundle cannot keep a replay busy for hours. Inputs whose parent is not in the bundle (wallet
 * coins, the claim's own funding) are counted, never silently trusted.
 *
 * Pure: bundle in, problems out.
 */
import { hashToHex } from '../bitcoin/codec/codec.ts';
import { scriptSigOpCount } from '../bitcoin/tx/policy.ts';
import { serializeTx } from '../bitcoin/tx/serialize.ts';
import type { Tx } from '../bitcoin/tx/types.ts';
import { equalBytes } from '../core/bytes.ts';
import type { Graph } from '../dispute/graph/build.ts';
import type { BundleTx } from './bundle.ts';
import { graphOutpoints, roleInGraph } from './roles.ts';

/** Bytes a replay may hash for legacy (pre-segwit) signature checks, summed over the bundle: ~2 GiB. */
export const LEGACY_SIGHASH_BUDGET_BYTES = 2 ** 31;

const DISABLE = 1 << 31;
const TYPE_TIME = 1 << 22;
const MASK = 0xffff;
const LOCKTIME_THRESHOLD = 500_000_000;

export type TxConsistency = { problems: string[]; externalInputs: number; overBudget: boolean };

/** An upper bound on the signature checks a legacy input runs (each opcode executes at most once). */
function legacySigops(tx: Tx, index: number, prevoutScript: Uint8Array): number {
  const input = tx.inputs[index];
  if (input === undefined || input.witness.length > 0) return 0;
  return (
    scriptSigOpCount(input.scriptSig, true) +
    scriptSigOpCount(prevoutScript, true) +
    (input.scriptSig.length > 0 ? 20 : 0)
  );
}

function roleProblem(t: BundleTx, tx: Tx, graph: Graph | undefined): string | undefined {
  if (graph === undefined) return undefined;
  const expected = roleInGraph(tx, t.txid, graphOutpoints(graph));
  const outside = t.role === 'claim' || t.role === 'funding' || t.role === 'other';
  if (expected === 'other' ? outside : expected === t.role) return undefined;
  return `the bundle calls it ${t.role}, but the graph outputs it spends make it ${expected}`;
}

/** Each transaction's problems against the rest of the bundle, in bundle order. */
export function transactionConsistency(
  txs: readonly BundleTx[],
  parsed: readonly Tx[],
  graph: Graph | undefined,
  budgetBytes = LEGACY_SIGHASH_BUDGET_BYTES,
): TxConsistency[] {
  const byTxid = new Map<string, { t: BundleTx; tx: Tx }>(
    txs.map((t, i) => [t.txid, { t, tx: parsed[i] as Tx }]),
  );
  let budget = budgetBytes;
  return txs.map((t, n) => {
    const tx = parsed[n] as Tx;
    const problems: string[] = [];
    let externalInputs = 0;
    let legacy = 0;
    let valueIn = 0n;
    tx.inputs.forEach((input, i) => {
      const prevout = t.prevouts[i];
      if (prevout === undefined) return;
      valueIn += prevout.value;
      legacy += legacySigops(tx, i, prevout.script);
      const parentTxid = hashToHex(input.prevTxid);
      const parent = byTxid.get(parentTxid);
      if (parent === undefined) {
        externalInputs++;
        return;
      }
      const out = parent.tx.outputs[input.vout];
      if (out === undefined) {
        problems.push(
          `input ${i} spends output ${input.vout} of ${parentTxid}, which has ${parent.tx.outputs.length} outputs`,
        );
        return;
      }
      if (out.value !== prevout.value || !equalBytes(out.script, prevout.script)) {
        problems.push(
          `input ${i}: its prevout is not output ${input.vout} of ${parent.t.role} ${parentTxid} in the bundle`,
        );
      }
      const here = t.confirmation?.height;
      const there = parent.t.confirmation?.height;
      if (here !== undefined && there === undefined) {
        problems.push(`input ${i}: confirmed at ${here}, but its parent ${parentTxid} is not confirmed`);
      } else if (here !== undefined && there !== undefined) {
        if (there > here) problems.push(`input ${i}: confirmed at ${here}, before its parent at ${there}`);
        const seq = input.sequence;
        if (
          tx.version >= 2 &&
          (seq & DISABLE) === 0 &&
          (seq & TYPE_TIME) === 0 &&
          here < there + (seq & MASK)
        ) {
          problems.push(
            `input ${i}: its relative timelock of ${seq & MASK} blocks is not met at ${here} (parent at ${there})`,
          );
        }
      }
    });
    const valueOut = tx.outputs.reduce((a, o) => a + o.value, 0n);
    if (valueOut > valueIn) problems.push(`it pays out ${valueOut} sat but spends ${valueIn} sat`);
    const height = t.confirmation?.height;
    const final = tx.inputs.every((i) => i.sequence === 0xffffffff);
    if (height !== undefined && !final && tx.locktime < LOCKTIME_THRESHOLD && tx.locktime >= height) {
      problems.push(`its lock time ${tx.locktime} is not passed at height ${height}`);
    }
    const role = roleProblem(t, tx, graph);
    if (role !== undefined) problems.push(role);
    let overBudget = false;
    if (legacy > 0) {
      const work = legacy * serializeTx(tx, { witness: false }).length;
      if (work > budget) {
        overBudget = true;
        problems.push(
          `not verified: its legacy signature checks would hash about ${work} bytes, past what is left of the replay's budget (${budget})`,
        );
      } else budget -= work;
    }
    return { problems, externalInputs, overBudget };
  });
}
