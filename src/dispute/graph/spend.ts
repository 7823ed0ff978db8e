/**
 * Completing the graph's transactions: the witnesses of every path. Pure functions over the graph and
 * its presigned signatures; the result is checked by the script engine before anything is broadcast.
 */

import { controlBlock, type TaprootOutput } from '../../bitcoin/taproot/output.ts';
import { cloneTx } from '../../bitcoin/tx/serialize.ts';
import { SIGHASH_DEFAULT } from '../../bitcoin/tx/sighash.ts';
import type { Prevout, Tx, TxOutput } from '../../bitcoin/tx/types.ts';
import { equalBytes } from '../../core/bytes.ts';
import { type WotsPublicKey, type WotsSecretKey, wotsPublicKey } from '../winternitz/keys.ts';
import { wotsParameters } from '../winternitz/parameters.ts';
import { encodeWotsWitness, wotsSign } from '../winternitz/sign.ts';
import { extractWotsValues } from '../winternitz/verify.ts';
import { type Graph, graphPrevouts, Leaf, type TxName } from './build.ts';
import { GraphSpendError } from './errors.ts';
import { EPOCH_VALUE_BYTES } from './parameters.ts';
import { type PresignedSignatures, schnorrSign, scriptPathSighash } from './sign.ts';

export type SpendableTx = { tx: Tx; prevouts: Prevout[] };

function leafWitness(output: TaprootOutput, leafIndex: number, stack: readonly Uint8Array[]): Uint8Array[] {
  const leaf = output.leaves[leafIndex];
  if (!leaf) throw new GraphSpendError(`Connector has no leaf ${leafIndex}`);
  return [...stack, leaf.script, controlBlock(output, leafIndex)];
}

/** The covenant signatures of one presigned input, ordered for the witness (first member on top). */
function covenantItems(
  graph: Graph,
  sigs: PresignedSignatures,
  tx: TxName,
  input: number,
  step?: number,
): Uint8Array[] {
  const at = graph.presigned.findIndex((p) => p.tx === tx && p.input === input && p.step === step);
  const list = sigs[at];
  if (at < 0 || !list || list.length !== graph.covenant.length) {
    throw new GraphSpendError(
      `Missing presigned signatures for ${tx}${step === undefined ? '' : `[${step}]`} input ${input}`,
    );
  }
  return [...list].reverse();
}

export function encodeEpoch(epoch: bigint): Uint8Array {
  const out = new Uint8Array(EPOCH_VALUE_BYTES);
  new DataView(out.buffer).setBigUint64(0, epoch, false);
  return out;
}

export type KickoffValues = { stateRoot: Uint8Array; l2BlockHash: Uint8Array };
export type KickoffSecrets = { epoch: WotsSecretKey; stateRoot: WotsSecretKey; l2BlockHash: WotsSecretKey };

function checkSecret(secret: WotsSecretKey, expected: { hashes: readonly Uint8Array[] }, what: string): void {
  const pk = wotsPublicKey(secret);
  if (!pk.hashes.every((h, i) => equalBytes(h, expected.hashes[i] as Uint8Array))) {
    throw new GraphSpendError(`The Winternitz secret for ${what} does not match the graph's public key`);
  }
}

/** The operator's kick-off: signs the claim spend and reveals the epoch, state root and L2 block hash. */
export function completeKickoff(
  graph: Graph,
  operatorSecret: Uint8Array,
  secrets: KickoffSecrets,
  values: KickoffValues,
): SpendableTx {
  const w = graph.spec.wots;
  checkSecret(secrets.epoch, w.epoch, 'the epoch');
  checkSecret(secrets.stateRoot, w.stateRoot, 'the state root');
  checkSecret(secrets.l2BlockHash, w.l2BlockHash, 'the L2 block hash');
  const tx = cloneTx(graph.txs.kickoff);
  const prevouts = graphPrevouts(graph, 'kickoff');
  const out = graph.outputs.claim;
  const leaf = out.leaves[Leaf.claim.kickoff];
  if (!leaf) throw new GraphSpendError('The claim output has no kick-off leaf');
  const sig = schnorrSign(
    scriptPathSighash(tx, prevouts, 0, SIGHASH_DEFAULT, leaf.leafHash),
    operatorSecret,
    SIGHASH_DEFAULT,
  );
  const items = [
    ...encodeWotsWitness(wotsSign(secrets.epoch, encodeEpoch(graph.spec.epoch))),
    ...encodeWotsWitness(wotsSign(secrets.stateRoot, values.stateRoot)),
    ...encodeWotsWitness(wotsSign(secrets.l2BlockHash, values.l2BlockHash)),
    sig,
  ];
  (tx.inputs[0] as Tx['inputs'][number]).witness = leafWitness(out, Leaf.claim.kickoff, items);
  return { tx, prevouts };
}

/** Reads the committed values back from a kick-off's witness (what a watcher does on seeing it). */
export function readKickoff(
  graph: Graph,
  kickoff: Tx,
): { epoch: bigint; stateRoot: Uint8Array; l2BlockHash: Uint8Array } {
  const w = graph.spec.wots;
  const witness = kickoff.inputs[0]?.witness ?? [];
  const [epoch, stateRoot, l2BlockHash] = extractWotsValues(witness, [w.epoch, w.stateRoot, w.l2BlockHash], {
    requireMinimal: false,
  }) as [Uint8Array, Uint8Array, Uint8Array];
  return {
    epoch: new DataView(epoch.buffer, epoch.byteOffset, 8).getBigUint64(0, false),
    stateRoot,
    l2BlockHash,
  };
}

/** The operator's take when nobody challenged (valid once the challenge window has passed). */
export function completeTake(graph: Graph, sigs: PresignedSignatures): SpendableTx {
  const tx = cloneTx(graph.txs.take);
  const o = graph.outputs;
  const at: [TaprootOutput, number][] = [
    [o.challengeConnector, Leaf.challengeConnector.take],
    [o.assertConnector, Leaf.assertConnector.take],
    [o.stake, Leaf.stake.take],
  ];
  at.forEach(([output, leaf], i) => {
    (tx.inputs[i] as Tx['inputs'][number]).witness = leafWitness(
      output,
      leaf,
      covenantItems(graph, sigs, 'take', i),
    );
  });
  return { tx, prevouts: graphPrevouts(graph, 'take') };
}

/** The operator's assert: reveals the trace roots r_0 … r_{k-1} under their Winternitz keys. */
export function completeAssert(
  graph: Graph,
  sigs: PresignedSignatures,
  traceSecrets: readonly WotsSecretKey[],
  trace: readonly Uint8Array[],
): SpendableTx {
  const keys = graph.spec.wots.trace;
  if (traceSecrets.length !== keys.length || trace.length !== keys.length) {
    throw new GraphSpendError(`The assert commits ${keys.length} trace roots`);
  }
  traceSecrets.forEach((s, i) => {
    checkSecret(s, keys[i] as WotsPublicKey, `trace root ${i}`);
  });
  const tx = cloneTx(graph.txs.assert);
  const items = trace.flatMap((root, i) =>
    encodeWotsWitness(wotsSign(traceSecrets[i] as WotsSecretKey, root)),
  );
  const o = graph.outputs;
  (tx.inputs[0] as Tx['inputs'][number]).witness = leafWitness(
    o.assertConnector,
    Leaf.assertConnector.assert,
    [...items, ...covenantItems(graph, sigs, 'assert', 0)],
  );
  (tx.inputs[1] as Tx['inputs'][number]).witness = leafWitness(
    o.stake,
    Leaf.stake.assert,
    covenantItems(graph, sigs, 'assert', 1),
  );
  return { tx, prevouts: graphPrevouts(graph, 'assert') };
}

/** Reads the trace roots back from an assert's witness. */
export function readAssert(graph: Graph, assert: Tx): Uint8Array[] {
  return extractWotsValues(assert.inputs[0]?.witness ?? [], graph.spec.wots.trace, { requireMinimal: false });
}

/** The operator's path after an assert nobody disproved (valid once the disprove window has passed). */
export function completePayout(graph: Graph, sigs: PresignedSignatures): SpendableTx {
  const tx = cloneTx(graph.txs.payout);
  (tx.inputs[0] as Tx['inputs'][number]).witness = leafWitness(
    graph.outputs.asserted,
    graph.spec.params.traceSteps,
    covenantItems(graph, sigs, 'payout', 0),
  );
  return { tx, prevouts: graphPrevouts(graph, 'payout') };
}

/** Where the submitter of an assert-timeout or disprove takes its reward, and what fee it leaves. */
export type RewardClaim = { script: Uint8Array; fee: bigint };

function addReward(tx: Tx, total: bigint, reward: RewardClaim): void {
  const burn = tx.outputs[0]?.value ?? 0n;
  const value = total - burn - reward.fee;
  if (reward.fee < 0n || value < 0n)
    throw new GraphSpendError(`A fee of ${reward.fee} sats leaves no reward`);
  if (value > 0n) tx.outputs.push({ value, script: reward.script } satisfies TxOutput);
}

/** Anyone's slash of an operator that did not assert in time. */
export function completeAssertTimeout(
  graph: Graph,
  sigs: PresignedSignatures,
  reward: RewardClaim,
): SpendableTx {
  const tx = cloneTx(graph.txs.assertTimeout);
  (tx.inputs[0] as Tx['inputs'][number]).witness = leafWitness(
    graph.outputs.stake,
    Leaf.stake.timeout,
    covenantItems(graph, sigs, 'assertTimeout', 0),
  );
  addReward(tx, graph.spec.params.stake, reward);
  return { tx, prevouts: graphPrevouts(graph, 'assertTimeout') };
}

/**
 * The challenger's disprove of step `step`: copies the operator's Winternitz signatures of r_step and
 * r_step+1 from the assert (and, for the last step, the kick-off) into the disprove leaf's witness.
 * Refuses when the step is not faulty by the circuit: a disprove that cannot succeed is never built.
 */
export function completeDisprove(
  graph: Graph,
  sigs: PresignedSignatures,
  step: number,
  kickoff: Tx,
  assert: Tx,
  reward: RewardClaim,
): SpendableTx {
  const k = graph.spec.params.traceSteps;
  if (!Number.isInteger(step) || step < 0 || step >= k) throw new GraphSpendError(`No trace step ${step}`);
  const w = graph.spec.wots;
  const rootItems = 2 * wotsParameters(32).totalDigits;
  const assertItems = assert.inputs[0]?.witness ?? [];
  const traceRoots = readAssert(graph, assert);
  const claimed = readKickoff(graph, kickoff).stateRoot;
  const roots = [...traceRoots, claimed];
  if (!graph.spec.circuit.isFaulty(roots[step] as Uint8Array, roots[step + 1] as Uint8Array)) {
    throw new GraphSpendError(`Step ${step} of the asserted trace is correct; it cannot be disproved`);
  }
  const itemsOf = (i: number): Uint8Array[] => {
    if (i < k) return assertItems.slice(i * rootItems, (i + 1) * rootItems);
    const epochItems = 2 * wotsParameters(w.epoch.messageBytes).totalDigits;
    return (kickoff.inputs[0]?.witness ?? []).slice(epochItems, epochItems + rootItems);
  };
  const tx = cloneTx(graph.txs.disprove[step] as Tx);
  (tx.inputs[0] as Tx['inputs'][number]).witness = leafWitness(graph.outputs.asserted, step, [
    ...itemsOf(step),
    ...itemsOf(step + 1),
    ...covenantItems(graph, sigs, 'disprove', 0, step),
  ]);
  addReward(tx, graph.txs.assert.outputs[0]?.value ?? 0n, reward);
  return { tx, prevouts: graphPrevouts(graph, 'disprove') };
}

/** The steps of an asserted trace that the circuit finds faulty (what a watcher can disprove). */
export function faultySteps(graph: Graph, kickoff: Tx, assert: Tx): number[] {
  const roots = [...readAssert(graph, assert), readKickoff(graph, kickoff).stateRoot];
  const out: number[] = [];
  for (let i = 0; i + 1 < roots.length; i++) {
    if (graph.spec.circuit.isFaulty(roots[i] as Uint8Array, roots[i + 1] as Uint8Array)) out.push(i);
  }
  return out;
}
