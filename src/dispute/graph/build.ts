/**
 * The graph of one epoch claim, built deterministically from its specification: the same spec gives
 * the same scripts, outputs and transactions byte for byte, which is what lets a watcher rebuild an
 * imported graph and compare.
 *
 *   claim ──kickoff──► A challenge connector ─┬─ challenge (presigned SINGLE|ACP + challengers' inputs)
 *                      B assert connector ────┤
 *                      S stake ───────────────┴─ take (A+B+S after the challenge window)
 *                      B + S ── assert ──► D ─┬─ disprove_i (step i wrong; SINGLE|ACP; burn + reward)
 *                                             └─ payout (after the disprove window)
 *                      S ── assert-timeout (after the assert window; SINGLE|ACP; burn + reward)
 */

import type { BitcoinNetwork } from '../../bitcoin/network.ts';
import { type TaprootOutput, taprootOutput, UNSPENDABLE_INTERNAL_KEY } from '../../bitcoin/taproot/output.ts';
import { balancedShape, buildTapTree } from '../../bitcoin/taproot/tree.ts';
import { txid } from '../../bitcoin/tx/serialize.ts';
import { SIGHASH_ANYONECANPAY, SIGHASH_DEFAULT, SIGHASH_SINGLE } from '../../bitcoin/tx/sighash.ts';
import type { Tx, TxOutput } from '../../bitcoin/tx/types.ts';
import type { WotsPublicKey } from '../winternitz/keys.ts';
import { GraphParameterError } from './errors.ts';
import { EPOCH_VALUE_BYTES, type GraphParameters, ROOT_VALUE_BYTES } from './parameters.ts';
import {
  assertLeaf,
  BURN_DUST_LIMIT,
  BURN_SCRIPT_PUBKEY,
  covenantLeaf,
  disproveLeaf,
  kickoffLeaf,
  type StepCircuit,
} from './scripts.ts';

export const GRAPH_TX_VERSION = 2;
/** Signals RBF and leaves BIP-68 relative locks off (bit 31 set). */
export const SEQUENCE_NO_LOCK = 0xfffffffd;
export const SIGHASH_SINGLE_ACP = SIGHASH_SINGLE | SIGHASH_ANYONECANPAY;

export type GraphWotsKeys = {
  epoch: WotsPublicKey;
  stateRoot: WotsPublicKey;
  l2BlockHash: WotsPublicKey;
  /** Roots r_0 … r_{k-1} of the epoch trace (r_k is the state root). */
  trace: WotsPublicKey[];
};

export type GraphSpec = {
  network: BitcoinNetwork;
  params: GraphParameters;
  operator: Uint8Array;
  /** The presigning committee; the covenant is operator + committee, n-of-n. */
  committee: Uint8Array[];
  epoch: bigint;
  instance: number;
  /** The operator's claim output that the kick-off spends (txid in internal byte order). */
  claim: { txid: Uint8Array; vout: number; value: bigint };
  wots: GraphWotsKeys;
  circuit: StepCircuit;
};

export type TxName = 'kickoff' | 'challenge' | 'take' | 'assert' | 'assertTimeout' | 'disprove' | 'payout';

/** One input the covenant presigns. */
export type PresignedInput = {
  tx: TxName;
  /** Which disprove transaction (step), for `disprove`. */
  step?: number;
  input: number;
  hashType: number;
  /** The connector and leaf it spends. */
  output: TaprootOutput;
  leafIndex: number;
};

export type Graph = {
  spec: GraphSpec;
  covenant: Uint8Array[];
  outputs: {
    claim: TaprootOutput;
    challengeConnector: TaprootOutput;
    assertConnector: TaprootOutput;
    stake: TaprootOutput;
    asserted: TaprootOutput;
    operatorPayout: TaprootOutput;
  };
  txs: {
    kickoff: Tx;
    /** Template: input 0 and output 0; challengers add their inputs and change. */
    challenge: Tx;
    take: Tx;
    assert: Tx;
    /** Template: input 0 and the burn output; the submitter adds the reward output. */
    assertTimeout: Tx;
    /** Templates, one per trace step, like assertTimeout. */
    disprove: Tx[];
    payout: Tx;
  };
  presigned: PresignedInput[];
  /** Reward left to whoever completes an assert-timeout or a disprove (before its fee). */
  rewards: { assertTimeout: bigint; disprove: bigint };
};

/** Leaf positions inside each connector (the order the trees are built in). */
export const Leaf = {
  claim: { kickoff: 0 },
  challengeConnector: { challenge: 0, take: 1 },
  assertConnector: { assert: 0, take: 1 },
  stake: { assert: 0, take: 1, timeout: 2 },
} as const;

const MAX_RELATIVE_BLOCKS = 0xffff;

function fail(message: string): never {
  throw new GraphParameterError(message);
}

export function checkSpec(spec: GraphSpec): void {
  const p = spec.params;
  const t = p.timelocks;
  for (const [name, v] of Object.entries(t)) {
    if (!Number.isInteger(v) || v < 1 || v > MAX_RELATIVE_BLOCKS)
      fail(`Timelock ${name} = ${v} is not 1..65535 blocks`);
  }
  if (t.assertWindow <= t.challengeWindow) fail('The assert window must end after the challenge window');
  if (p.connectorValue < 330n)
    fail(`Connector value ${p.connectorValue} is below the 330-sat P2TR dust limit`);
  if (
    !(
      p.timeoutBurnBps >= 0 &&
      p.timeoutBurnBps <= 10_000 &&
      p.disproveBurnBps >= 0 &&
      p.disproveBurnBps <= 10_000
    )
  ) {
    fail('Burn shares are basis points in 0..10000');
  }
  if (!Number.isInteger(p.traceSteps) || p.traceSteps < 1 || p.traceSteps > 64)
    fail('traceSteps must be 1..64');
  if (spec.wots.trace.length !== p.traceSteps) {
    fail(`The graph has ${spec.wots.trace.length} trace keys; the parameters say ${p.traceSteps} steps`);
  }
  if (spec.wots.epoch.messageBytes !== EPOCH_VALUE_BYTES) fail('The epoch value is 8 bytes');
  for (const k of [spec.wots.stateRoot, spec.wots.l2BlockHash, ...spec.wots.trace]) {
    if (k.messageBytes !== ROOT_VALUE_BYTES) fail('Roots and block hashes are 32-byte values');
  }
  if (spec.committee.length === 0) fail('A graph needs at least one committee key besides the operator');
  for (const f of Object.values(p.fees)) if (f < 0n) fail('Fees are non-negative');
  // The burn is a P2WSH output (see BURN_SCRIPT_PUBKEY), so a burn below its dust limit would make
  // every assert-timeout or disprove non-standard: no node would relay the slash.
  const { timeoutBurn, disproveBurn } = burnAmounts(p);
  if (timeoutBurn < BURN_DUST_LIMIT) {
    fail(
      `The assert-timeout would burn ${timeoutBurn} sats (stake × ${p.timeoutBurnBps} bps), below the ${BURN_DUST_LIMIT}-sat P2WSH dust limit`,
    );
  }
  if (disproveBurn < BURN_DUST_LIMIT) {
    fail(
      `A disprove would burn ${disproveBurn} sats (asserted stake × ${p.disproveBurnBps} bps), below the ${BURN_DUST_LIMIT}-sat P2WSH dust limit`,
    );
  }
}

/**
 * What the assert-timeout and each disprove burn: a share of the stake, and of the asserted stake
 * (stake + assert connector − assert fee). One function, so the check and the graph cannot disagree.
 */
export function burnAmounts(p: GraphParameters): { timeoutBurn: bigint; disproveBurn: bigint } {
  const assertedValue = p.stake + p.connectorValue - p.fees.assert;
  return {
    timeoutBurn: (p.stake * BigInt(p.timeoutBurnBps)) / 10_000n,
    disproveBurn: assertedValue > 0n ? (assertedValue * BigInt(p.disproveBurnBps)) / 10_000n : 0n,
  };
}

function outpoint(txid: Uint8Array, vout: number, sequence: number) {
  return { prevTxid: txid, vout, scriptSig: new Uint8Array(), sequence, witness: [] as Uint8Array[] };
}

function tx(inputs: Tx['inputs'], outputs: TxOutput[]): Tx {
  return { version: GRAPH_TX_VERSION, inputs, outputs, locktime: 0 };
}

function positive(name: string, value: bigint): bigint {
  if (value <= 0n) fail(`The ${name} amount would be ${value} sats; raise the stake or lower the fees`);
  return value;
}

/** Builds the whole graph; the kick-off txid is known before any witness exists, so the rest chains. */
export function buildGraph(spec: GraphSpec): Graph {
  checkSpec(spec);
  const p = spec.params;
  const t = p.timelocks;
  const covenantKeys = [spec.operator, ...spec.committee];
  const nums = UNSPENDABLE_INTERNAL_KEY;
  const single = (script: Uint8Array) => buildTapTree({ script });

  const claim = taprootOutput(
    nums,
    single(kickoffLeaf(spec.operator, [spec.wots.epoch, spec.wots.stateRoot, spec.wots.l2BlockHash])),
  );
  const takeLeaf = covenantLeaf(covenantKeys, t.challengeWindow);
  const plainLeaf = covenantLeaf(covenantKeys);
  const challengeConnector = taprootOutput(nums, buildTapTree([{ script: plainLeaf }, { script: takeLeaf }]));
  const assertConnector = taprootOutput(
    nums,
    buildTapTree([{ script: assertLeaf(covenantKeys, spec.wots.trace) }, { script: takeLeaf }]),
  );
  const stake = taprootOutput(
    nums,
    buildTapTree([
      [{ script: plainLeaf }, { script: takeLeaf }],
      { script: covenantLeaf(covenantKeys, t.assertWindow) },
    ]),
  );
  const roots = [...spec.wots.trace, spec.wots.stateRoot];
  const disproveLeaves = spec.wots.trace.map((pre, i) => ({
    script: disproveLeaf(covenantKeys, pre, roots[i + 1] as WotsPublicKey, spec.circuit),
  }));
  const asserted = taprootOutput(
    nums,
    buildTapTree(
      balancedShape([...disproveLeaves, { script: covenantLeaf(covenantKeys, t.disproveWindow) }]),
    ),
  );
  const operatorPayout = taprootOutput(spec.operator);

  const kickoffFee = spec.claim.value - (2n * p.connectorValue + p.stake);
  if (kickoffFee !== p.fees.kickoff) {
    fail(`The claim output holds ${spec.claim.value} sats; it must hold stake + 2 connectors + kick-off fee`);
  }
  const kickoff = tx(
    [outpoint(spec.claim.txid, spec.claim.vout, SEQUENCE_NO_LOCK)],
    [
      { value: p.connectorValue, script: challengeConnector.scriptPubKey },
      { value: p.connectorValue, script: assertConnector.scriptPubKey },
      { value: p.stake, script: stake.scriptPubKey },
    ],
  );
  const k = txid(kickoff);
  const challenge = tx(
    [outpoint(k, 0, SEQUENCE_NO_LOCK)],
    [{ value: p.challengeAmount, script: operatorPayout.scriptPubKey }],
  );
  const take = tx(
    [outpoint(k, 0, t.challengeWindow), outpoint(k, 1, t.challengeWindow), outpoint(k, 2, t.challengeWindow)],
    [
      {
        value: positive('take', p.stake + 2n * p.connectorValue - p.fees.take),
        script: operatorPayout.scriptPubKey,
      },
    ],
  );
  const assertedValue = positive('asserted stake', p.stake + p.connectorValue - p.fees.assert);
  const assert = tx(
    [outpoint(k, 1, SEQUENCE_NO_LOCK), outpoint(k, 2, SEQUENCE_NO_LOCK)],
    [{ value: assertedValue, script: asserted.scriptPubKey }],
  );
  const a = txid(assert);
  const { timeoutBurn, disproveBurn } = burnAmounts(p);
  const assertTimeout = tx(
    [outpoint(k, 2, t.assertWindow)],
    [{ value: timeoutBurn, script: BURN_SCRIPT_PUBKEY }],
  );
  const disprove = spec.wots.trace.map(() =>
    tx([outpoint(a, 0, SEQUENCE_NO_LOCK)], [{ value: disproveBurn, script: BURN_SCRIPT_PUBKEY }]),
  );
  const payout = tx(
    [outpoint(a, 0, t.disproveWindow)],
    [{ value: positive('payout', assertedValue - p.fees.payout), script: operatorPayout.scriptPubKey }],
  );

  const presigned: PresignedInput[] = [
    {
      tx: 'challenge',
      input: 0,
      hashType: SIGHASH_SINGLE_ACP,
      output: challengeConnector,
      leafIndex: Leaf.challengeConnector.challenge,
    },
    {
      tx: 'take',
      input: 0,
      hashType: SIGHASH_DEFAULT,
      output: challengeConnector,
      leafIndex: Leaf.challengeConnector.take,
    },
    {
      tx: 'take',
      input: 1,
      hashType: SIGHASH_DEFAULT,
      output: assertConnector,
      leafIndex: Leaf.assertConnector.take,
    },
    { tx: 'take', input: 2, hashType: SIGHASH_DEFAULT, output: stake, leafIndex: Leaf.stake.take },
    {
      tx: 'assert',
      input: 0,
      hashType: SIGHASH_DEFAULT,
      output: assertConnector,
      leafIndex: Leaf.assertConnector.assert,
    },
    { tx: 'assert', input: 1, hashType: SIGHASH_DEFAULT, output: stake, leafIndex: Leaf.stake.assert },
    {
      tx: 'assertTimeout',
      input: 0,
      hashType: SIGHASH_SINGLE_ACP,
      output: stake,
      leafIndex: Leaf.stake.timeout,
    },
    ...disprove.map(
      (_, step): PresignedInput => ({
        tx: 'disprove',
        step,
        input: 0,
        hashType: SIGHASH_SINGLE_ACP,
        output: asserted,
        leafIndex: step,
      }),
    ),
    { tx: 'payout', input: 0, hashType: SIGHASH_DEFAULT, output: asserted, leafIndex: p.traceSteps },
  ];

  return {
    spec,
    covenant: covenantKeys,
    outputs: { claim, challengeConnector, assertConnector, stake, asserted, operatorPayout },
    txs: { kickoff, challenge, take, assert, assertTimeout, disprove, payout },
    presigned,
    rewards: { assertTimeout: p.stake - timeoutBurn, disprove: assertedValue - disproveBurn },
  };
}

/** The transaction a presigned input belongs to. */
export function presignedTx(graph: Graph, p: PresignedInput): Tx {
  if (p.tx === 'disprove')
    return graph.txs.disprove[p.step ?? -1] ?? fail(`No disprove transaction for step ${p.step}`);
  if (p.tx === 'kickoff') return graph.txs.kickoff;
  return graph.txs[p.tx];
}

/** The prevouts of a graph transaction's own inputs (templates: input 0 only). */
export function graphPrevouts(graph: Graph, name: TxName): { value: bigint; script: Uint8Array }[] {
  const o = graph.outputs;
  const v = graph.spec.params.connectorValue;
  const stake = graph.spec.params.stake;
  const assertedValue = graph.txs.assert.outputs[0]?.value ?? 0n;
  switch (name) {
    case 'kickoff':
      return [{ value: graph.spec.claim.value, script: o.claim.scriptPubKey }];
    case 'challenge':
      return [{ value: v, script: o.challengeConnector.scriptPubKey }];
    case 'take':
      return [
        { value: v, script: o.challengeConnector.scriptPubKey },
        { value: v, script: o.assertConnector.scriptPubKey },
        { value: stake, script: o.stake.scriptPubKey },
      ];
    case 'assert':
      return [
        { value: v, script: o.assertConnector.scriptPubKey },
        { value: stake, script: o.stake.scriptPubKey },
      ];
    case 'assertTimeout':
      return [{ value: stake, script: o.stake.scriptPubKey }];
    case 'disprove':
    case 'payout':
      return [{ value: assertedValue, script: o.asserted.scriptPubKey }];
  }
}
