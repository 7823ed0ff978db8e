/**
 * The graph of one epoch claim with its narrowing games (docs/protocol.md §24.1, §24.6): the kick-off that
 * commits the claim, one challenge per registered challenger w, the take when nobody challenged, the
 * assert that opens every game, the assert-timeout when the operator never asserts, D's payout, and one
 * game graph (game-graph.ts) per challenger on the outputs the assert and w's challenge create. Built
 * deterministically from its spec, so a watcher rebuilds an imported claim and compares byte for byte.
 * Pure: no I/O.
 *
 *   claim ─ kickoff ─► A_1 … A_W (330)  ─ challenge:w = [A_w (covenant), F_w (w's key, signed when w challenges)] → C_w, change
 *   (epoch, R′, L2      B_1 … B_m (330)  ─┐
 *    block, the two     S (stake + the  ─┼─ assert (S after T_c) = [B_1 … B_m, S] → D, Q_1 … Q_W, anchor
 *    roots: Winternitz)    reserves)     └─ take (nobody challenged) = [A_*, B_*, S after T_c] → operator
 *                       anchor (330 + what the claim output holds beyond the graph's need: the operator's)
 *                                          assertTimeout:w = [S after T_a, C_w] → burn, w   (challenged, never asserted)
 *   D ─ payout (after T_pay) → operator;  every game's slashes take D first
 *
 * w's challenge is presigned by the covenant on A_w only. Its other input is w's bond coin F_w, named in
 * w's bundle; w signs it when it decides to challenge. The txid does not cover witnesses, so C_w's outpoint
 * (and with it every txid of w's game) is fixed at graph time, while nobody but w can put w's coin at stake:
 * a challenge presigned by w would let the operator send it against an honest claim and win w's bond.
 */
import type { BitcoinNetwork } from '../../bitcoin/network.ts';
import {
  findLeaf,
  type TaprootOutput,
  taprootOutput,
  UNSPENDABLE_INTERNAL_KEY,
} from '../../bitcoin/taproot/output.ts';
import { buildTapTree } from '../../bitcoin/taproot/tree.ts';
import { txid } from '../../bitcoin/tx/serialize.ts';
import type { Tx, TxInput, TxOutput } from '../../bitcoin/tx/types.ts';
import { bytesToHex, equalBytes } from '../../core/bytes.ts';
import { VigilError } from '../../core/errors.ts';
import type { Program } from '../../machine/program.ts';
import { BURN_DUST_LIMIT, BURN_SCRIPT_PUBKEY, covenantLeaf, kickoffLeaf } from '../graph/scripts.ts';
import type { WotsPublicKey } from '../winternitz/keys.ts';
import {
  buildGameGraph,
  depthOf,
  GAME_CONNECTOR_VALUE,
  GAME_SEQUENCE_NO_LOCK,
  GAME_TX_VERSION,
  type GameGraph,
  type GameGraphSpec,
  type GameInputSpend,
  type GameTimelocks,
  type GameTx,
  gameFundingOutputs,
  keyedMove,
  moveItemBytes,
  type Outpoint,
  treeOutput,
} from './game-graph.ts';
import type { SearchShape } from './grid.ts';
import { gameKeyPlan } from './key-plan.ts';
import { type Move, type MoveInputScript, moveInputs } from './move-inputs.ts';
import { gameMoveSites, type KickoffKeys } from './output-leaves.ts';
import type { SignerKeys } from './signer-keys.ts';
import { feeFor, KEY_PATH_WITNESS_BYTES, weightOf, witnessBytes, wotsItemBytes } from './tx-size.ts';

export class ClaimGraphError extends VigilError {
  override name = 'ClaimGraphError';
}

function fail(message: string): never {
  throw new ClaimGraphError(message);
}

/** One registered challenger of the claim, as its bundle and the operator's keys for its game give it. */
export type ClaimChallenger = {
  /** w's x-only key: it signs w's moves, and its key-path P2TR output holds the bond coin. */
  readonly key: Uint8Array;
  /** w's Winternitz public keys of its game (its bundle). */
  readonly keys: SignerKeys;
  /** The operator's Winternitz public keys of w's game. */
  readonly operatorKeys: SignerKeys;
  /** F_w: a key-path P2TR coin of `key`, named in w's bundle; w's challenge spends it. */
  readonly bondCoin: { readonly txid: Uint8Array; readonly vout: number; readonly value: bigint };
};

/** The kick-off's committed values, in the order its leaf verifies them (§14 and §24.9's two roots). */
export type ClaimKickoffKeys = KickoffKeys & {
  readonly epoch: WotsPublicKey;
  readonly l2BlockHash: WotsPublicKey;
};

export type ClaimTimelocks = GameTimelocks & {
  /** T_c: challenges are open from the kick-off; the take and the assert wait this long after it. */
  readonly challenge: number;
};

export type ClaimGraphSpec = {
  readonly network: BitcoinNetwork;
  readonly operator: Uint8Array;
  /** The covenant's x-only keys (the operator and the committee, n-of-n), in signing order. */
  readonly covenant: readonly Uint8Array[];
  readonly epoch: bigint;
  readonly instance: number;
  /** The operator's claim output that the kick-off spends. */
  readonly claim: Outpoint;
  /**
   * What the claim output holds: at least `claimOutput(spec).value`, which grows with the challengers
   * that post. The operator funds it when it opens the claim, before any bundle, so it funds for every
   * challenger that may post, and the kick-off's keyed anchor returns what the graph does not use
   * (§24.11 item 37). Default: exactly what the graph needs.
   */
  readonly claimValue?: bigint;
  readonly shape: SearchShape;
  readonly program: Program;
  /** The previous epoch's root as the graph fixes it (§24.11 item 5): import checks it against the L2. */
  readonly agreedImageRoot: Uint8Array;
  readonly kickoff: ClaimKickoffKeys;
  readonly timelocks: ClaimTimelocks;
  /** sat/vB every presigned fee pays on its transaction's largest witness. */
  readonly feeRate: bigint;
  /**
   * sat/vB of each challenge (default `feeRate`). A challenge has one fee, fixed at graph time, and must
   * confirm before T_c; Bitcoin Core 26 relays no parent below its mempool minimum, so a child on w's
   * change cannot rescue one priced at the floor. w pays it from its bond coin.
   */
  readonly challengeFeeRate?: bigint;
  readonly slashFeeRates?: readonly bigint[];
  /** The ladder of the games' timeout slashes, and of each assert-timeout. */
  readonly timeoutFeeRates?: readonly bigint[];
  /** Share of D a game's slash burns, in basis points. */
  readonly burnBps: number;
  /** Share of the stake an assert-timeout burns, in basis points. */
  readonly assertTimeoutBurnBps: number;
  /** D (the stake), each Q_w (the operator's fee reserve per game) and each C_w (w's bond and fee reserve). */
  readonly values: GameGraphSpec['values'];
  /** W_max: the most challengers one claim may list (§24.2). */
  readonly maxChallengers: number;
  readonly challengers: readonly ClaimChallenger[];
};

/** An output of the claim graph with its leaves by name. */
export type NamedOutput = { readonly output: TaprootOutput; readonly leaves: ReadonlyMap<string, number> };

export type ClaimGraph = {
  readonly spec: ClaimGraphSpec;
  /** The claim output the kick-off spends, and the value it holds (the spec's `claimValue`). */
  readonly claim: { readonly output: TaprootOutput; readonly value: bigint };
  /** A_w, one per challenger. */
  readonly challengeConnector: TaprootOutput;
  /** B_1 … B_m: each carries one input of the assert's values. */
  readonly assertConnectors: readonly NamedOutput[];
  /** S: the stake and every game's reserve until the assert. */
  readonly stake: NamedOutput;
  readonly assertMove: Move;
  readonly assertInputs: readonly MoveInputScript[];
  /** The claim graph's own transactions: kickoff, challenge:<w>, take, assert, assertTimeout:<w>[@rate], payout. */
  readonly txs: ReadonlyMap<string, GameTx>;
  /** The claim graph's presigned inputs (each game lists its own). */
  readonly presigned: readonly { readonly tx: string; readonly input: number }[];
  /** One game per challenger, in the spec's order. */
  readonly games: readonly GameGraph[];
};

/** The labels of the assert's values: signed once per claim, under keys every game shares (key-plan.ts). */
export function assertLabels(shape: SearchShape): string[] {
  return gameKeyPlan(shape)
    .filter((e) => e.search === 'assert')
    .map((e) => e.label);
}

export const challengeId = (w: number): string => `challenge:${w}`;
export function assertTimeoutId(w: number, rate?: bigint): string {
  return rate === undefined ? `assertTimeout:${w}` : `assertTimeout:${w}@${rate}`;
}

/** The kick-off's Winternitz keys in the order its leaf verifies them (and its witness carries them). */
export function kickoffKeyList(keys: ClaimKickoffKeys): WotsPublicKey[] {
  return [keys.epoch, keys.root, keys.l2BlockHash, keys.imageRoot, keys.inputsRoot];
}

export function checkClaimSpec(spec: ClaimGraphSpec): void {
  const W = spec.challengers.length;
  if (!Number.isInteger(spec.maxChallengers) || spec.maxChallengers < 1)
    fail('maxChallengers (W_max) must be a positive integer');
  if (W === 0) fail('A claim graph needs at least one challenger: with none, nobody could ever dispute it');
  if (W > spec.maxChallengers) fail(`${W} challengers is more than W_max = ${spec.maxChallengers}`);
  const { challenge, assertWindow } = spec.timelocks;
  if (!Number.isInteger(challenge) || challenge < 1 || challenge > 0xffff)
    fail(`Timelock challenge = ${challenge} is not 1..65535 blocks`);
  if (assertWindow <= challenge) {
    fail(
      `The assert window (${assertWindow} blocks) must end after the challenge window (${challenge}): the assert can only confirm after T_c`,
    );
  }
  if (spec.covenant.length === 0 || !equalBytes(spec.covenant[0] as Uint8Array, spec.operator))
    fail("The covenant's first key must be the operator's");
  if (spec.challengeFeeRate !== undefined && spec.challengeFeeRate < spec.feeRate)
    fail('The challenge fee rate must be at least the presigned fee rate');
  const bps = spec.assertTimeoutBurnBps;
  if (!Number.isInteger(bps) || bps < 0 || bps > 10_000) fail('assertTimeoutBurnBps is 0..10000');
  const burn = (spec.values.stake * BigInt(bps)) / 10_000n;
  if (burn < BURN_DUST_LIMIT)
    fail(`An assert-timeout would burn ${burn} sats, below the ${BURN_DUST_LIMIT}-sat P2WSH dust limit`);
  const keys = new Set<string>();
  const coins = new Set<string>();
  spec.challengers.forEach((c, w) => {
    const k = bytesToHex(c.key);
    if (keys.has(k))
      fail(`Challenger ${w} repeats another's key: both games would share the operator's keys`);
    if (equalBytes(c.key, spec.operator)) fail(`Challenger ${w} is the operator`);
    keys.add(k);
    const coin = `${bytesToHex(c.bondCoin.txid)}:${c.bondCoin.vout}`;
    if (coins.has(coin)) fail(`Challenger ${w} names a bond coin another challenger named`);
    coins.add(coin);
  });
  checkClaimKeys(spec);
}

/**
 * No Winternitz key signs twice (§24.7): every key the operator holds in the claim (the kick-off's, the
 * shared assert's, each game's) is its own, and the assert's keys are the same in every game. Compared by
 * every chain end, so two keys that share one chain are refused too (a signature under one would give away
 * digits of the other).
 */
function checkClaimKeys(spec: ClaimGraphSpec): void {
  const shared = new Set(assertLabels(spec.shape));
  const first = spec.challengers[0] as ClaimChallenger;
  const seen = new Map<string, string>();
  const add = (key: WotsPublicKey, what: string) => {
    for (const h of key.hashes) {
      const hex = bytesToHex(h);
      const before = seen.get(hex);
      if (before !== undefined)
        fail(`The operator's Winternitz key for ${what} shares a chain with ${before}`);
      seen.set(hex, what);
    }
  };
  for (const [name, key] of Object.entries(spec.kickoff)) add(key, `the kick-off's ${name}`);
  for (const label of shared) {
    const key = first.operatorKeys.get(label);
    if (key === undefined) fail(`The operator's keys lack the assert's ${label}`);
    add(key, `the assert's ${label}`);
  }
  spec.challengers.forEach((c, w) => {
    for (const [label, key] of c.operatorKeys) {
      if (!shared.has(label)) {
        add(key, `game ${w}'s ${label}`);
        continue;
      }
      const mine = first.operatorKeys.get(label) as WotsPublicKey;
      if (!key.hashes.every((h, i) => equalBytes(h, mine.hashes[i] as Uint8Array))) {
        fail(`Game ${w}'s key for the assert's ${label} differs from game 0's: the assert is signed once`);
      }
    }
    const own = new Set<string>();
    for (const [label, key] of c.keys) {
      for (const h of key.hashes) {
        const hex = bytesToHex(h);
        if (own.has(hex)) fail(`Challenger ${w}'s Winternitz key for ${label} shares a chain with another`);
        own.add(hex);
      }
    }
  });
}

/** The spec of w's game: the claim's fields and w's keys. */
function gameSpecOf(spec: ClaimGraphSpec, c: ClaimChallenger): GameGraphSpec {
  return {
    shape: spec.shape,
    program: spec.program,
    agreedImageRoot: spec.agreedImageRoot,
    operator: spec.operator,
    challenger: c.key,
    keys: { operator: c.operatorKeys, challenger: c.keys },
    kickoff: {
      root: spec.kickoff.root,
      imageRoot: spec.kickoff.imageRoot,
      inputsRoot: spec.kickoff.inputsRoot,
    },
    covenant: spec.covenant,
    timelocks: {
      move: spec.timelocks.move,
      payout: spec.timelocks.payout,
      assertWindow: spec.timelocks.assertWindow,
      bondRefund: spec.timelocks.bondRefund,
    },
    feeRate: spec.feeRate,
    ...(spec.slashFeeRates === undefined ? {} : { slashFeeRates: spec.slashFeeRates }),
    ...(spec.timeoutFeeRates === undefined ? {} : { timeoutFeeRates: spec.timeoutFeeRates }),
    burnBps: spec.burnBps,
    values: spec.values,
  };
}

const nums = UNSPENDABLE_INTERNAL_KEY;

function input(out: Outpoint, sequence: number): TxInput {
  return { prevTxid: out.txid, vout: out.vout, scriptSig: new Uint8Array(), sequence, witness: [] };
}

/** The witness bytes of a covenant leaf: one signature per member. */
function covenantWitness(spec: ClaimGraphSpec, o: NamedOutput | TaprootOutput, leaf: number): number {
  const output = 'output' in o ? o.output : o;
  const n = spec.covenant.length;
  return witnessBytes(n, n * 65, output.leaves[leaf]?.script as Uint8Array, depthOf(output, leaf));
}

/**
 * What the claim graph builds before any txid: its outputs' scripts and the values that follow from the
 * fees. Needs only the assert's keys from the games, so the claim output can be funded before the games'
 * leaves are built.
 */
function claimLayout(spec: ClaimGraphSpec) {
  const W = spec.challengers.length;
  const covenant = spec.covenant;
  const claimOutput = taprootOutput(
    nums,
    buildTapTree({ script: kickoffLeaf(spec.operator, kickoffKeyList(spec.kickoff)) }),
  );
  const assertShape = gameMoveSites(spec.shape).find((s) => s.site === 'reserve')?.move;
  if (assertShape === undefined) fail('The search shape has no assert');
  const assertMove = keyedMove(gameSpecOf(spec, spec.challengers[0] as ClaimChallenger), assertShape);
  const assertInputs = moveInputs(assertMove, { covenant });
  const challengeConnector = taprootOutput(nums, buildTapTree({ script: covenantLeaf(covenant) }));
  const assertConnectors: NamedOutput[] = assertInputs.map((s) => {
    const t = treeOutput([
      { name: 'assert', script: s.script },
      { name: 'take', script: covenantLeaf(covenant) },
    ]);
    return { output: t.output, leaves: t.index };
  });
  const stakeTree = treeOutput([
    { name: 'window', script: covenantLeaf(covenant, spec.timelocks.challenge) },
    { name: 'timeout', script: covenantLeaf(covenant, spec.timelocks.assertWindow) },
  ]);
  const stake: NamedOutput = { output: stakeTree.output, leaves: stakeTree.index };
  const anchor = taprootOutput(spec.operator).scriptPubKey;
  const p2tr = anchor; // every game output is a 34-byte P2TR script: sizes do not depend on which
  const m = assertInputs.length;

  const assertOutputs: TxOutput[] = [
    { value: spec.values.stake, script: p2tr },
    ...spec.challengers.map(() => ({ value: spec.values.reserve, script: p2tr })),
    { value: GAME_CONNECTOR_VALUE, script: anchor },
  ];
  const assertWitness = [
    ...assertInputs.map((s, j) => {
      const items = moveItemBytes(s, covenant.length);
      const b = assertConnectors[j] as NamedOutput;
      const leaf = b.leaves.get('assert') as number;
      return witnessBytes(items.count, items.bytes, s.script, depthOf(b.output, leaf));
    }),
    covenantWitness(spec, stake, stake.leaves.get('window') as number),
  ];
  const assertWeight = weightOf(m + 1, assertOutputs, assertWitness);
  const assertFee = feeFor(spec.feeRate, assertWeight);
  const stakeValue =
    spec.values.stake +
    BigInt(W) * spec.values.reserve +
    GAME_CONNECTOR_VALUE +
    assertFee -
    BigInt(m) * GAME_CONNECTOR_VALUE;
  if (stakeValue <= 0n) fail('The stake output would hold nothing');

  const kickoffOutputs: TxOutput[] = [
    ...spec.challengers.map(() => ({ value: GAME_CONNECTOR_VALUE, script: challengeConnector.scriptPubKey })),
    ...assertConnectors.map((b) => ({ value: GAME_CONNECTOR_VALUE, script: b.output.scriptPubKey })),
    { value: stakeValue, script: stake.output.scriptPubKey },
    { value: GAME_CONNECTOR_VALUE, script: anchor },
  ];
  const anchorVout = kickoffOutputs.length - 1;
  let kickoffItems = 1;
  let kickoffBytes = 65;
  for (const k of kickoffKeyList(spec.kickoff)) {
    const v = wotsItemBytes(k);
    kickoffItems += v.count;
    kickoffBytes += v.bytes;
  }
  const claimScript = claimOutput.leaves[0]?.script as Uint8Array;
  const kickoffWeight = weightOf(1, kickoffOutputs, [
    witnessBytes(kickoffItems, kickoffBytes, claimScript, 0),
  ]);
  const kickoffFee = feeFor(spec.feeRate, kickoffWeight);
  const claimNeeds = kickoffOutputs.reduce((a, o) => a + o.value, 0n) + kickoffFee;
  const claimValue = spec.claimValue ?? claimNeeds;
  if (claimValue < claimNeeds)
    fail(
      `The claim output holds ${claimValue} sats; a claim of ${W} challengers needs at least ${claimNeeds}`,
    );
  // The surplus goes back to the operator on its keyed anchor: the same weight, so the same fee.
  kickoffOutputs[anchorVout] = { value: GAME_CONNECTOR_VALUE + claimValue - claimNeeds, script: anchor };
  return {
    claimOutput,
    claimNeeds,
    claimValue,
    assertMove,
    assertInputs,
    challengeConnector,
    assertConnectors,
    stake,
    stakeValue,
    assertOutputs,
    assertWeight,
    assertFee,
    kickoffOutputs,
    kickoffWeight,
    kickoffFee,
  };
}

/**
 * The claim output's script and the least value it must hold for `spec`'s challengers: what the operator
 * funds before the kick-off (for the most challengers that may post; the kick-off returns the rest).
 */
export function claimOutput(spec: ClaimGraphSpec): { output: TaprootOutput; value: bigint } {
  const { claimValue: _funded, ...needs } = spec;
  checkClaimSpec(needs);
  const l = claimLayout(needs);
  return { output: l.claimOutput, value: l.claimNeeds };
}

/**
 * The least a claim output must hold for `spec` had it `W` challengers (1 … W_max): the value depends on
 * how many, not on who. What an operator funds before the bundles: `claimNeedsFor(spec, maxChallengers)`.
 */
export function claimNeedsFor(spec: ClaimGraphSpec, W: number): bigint {
  const { claimValue: _funded, ...needs } = spec;
  checkClaimSpec(needs);
  if (!Number.isInteger(W) || W < 1 || W > spec.maxChallengers)
    fail(`${W} challengers is not 1 … W_max = ${spec.maxChallengers}`);
  const first = spec.challengers[0] as ClaimChallenger;
  return claimLayout({ ...needs, challengers: Array.from({ length: W }, () => first) }).claimNeeds;
}

/** Builds the claim's transactions and every game. */
export function buildClaimGraph(spec: ClaimGraphSpec): ClaimGraph {
  checkClaimSpec(spec);
  const l = claimLayout(spec);
  const W = spec.challengers.length;
  const m = l.assertInputs.length;
  const covenant = spec.covenant;
  const gameSpecs = spec.challengers.map((c) => gameSpecOf(spec, c));
  const funding = gameSpecs.map((g) => gameFundingOutputs(g));
  const operatorPays = taprootOutput(spec.operator).scriptPubKey;
  const txs = new Map<string, GameTx>();
  const presigned: { tx: string; input: number }[] = [];
  const add = (gtx: GameTx) => {
    txs.set(gtx.id, gtx);
    for (const j of gtx.presigned) presigned.push({ tx: gtx.id, input: j });
  };
  const stakeLeaf = (name: string) => l.stake.leaves.get(name) as number;

  // The kick-off: the operator's alone (its claim leaf checks the operator's key and the committed values).
  const kickoffTx: Tx = {
    version: GAME_TX_VERSION,
    inputs: [input(spec.claim, GAME_SEQUENCE_NO_LOCK)],
    outputs: l.kickoffOutputs,
    locktime: 0,
  };
  add({
    id: 'kickoff',
    kind: 'kickoff',
    tx: kickoffTx,
    spends: [{ output: l.claimOutput, value: l.claimValue, leafIndex: 0 }],
    presigned: [],
    fee: l.kickoffFee,
    maxWeight: l.kickoffWeight,
  });
  const k = txid(kickoffTx);
  const aOut = (w: number): Outpoint => ({ txid: k, vout: w });
  const bOut = (j: number): Outpoint => ({ txid: k, vout: W + j });
  const sOut: Outpoint = { txid: k, vout: W + m };

  // Each challenge: A_w (presigned) and w's bond coin (w signs it when it challenges).
  const challengeTxids: Uint8Array[] = [];
  spec.challengers.forEach((c, w) => {
    const bond = (funding[w] as (typeof funding)[number]).bond;
    const outputs: TxOutput[] = [
      { value: spec.values.bond, script: bond.scriptPubKey },
      { value: 0n, script: taprootOutput(c.key).scriptPubKey },
    ];
    const maxWeight = weightOf(2, outputs, [
      covenantWitness(spec, l.challengeConnector, 0),
      KEY_PATH_WITNESS_BYTES,
    ]);
    const fee = feeFor(spec.challengeFeeRate ?? spec.feeRate, maxWeight);
    const change = c.bondCoin.value + GAME_CONNECTOR_VALUE - spec.values.bond - fee;
    if (change < GAME_CONNECTOR_VALUE) {
      fail(
        `Challenger ${w}'s bond coin holds ${c.bondCoin.value} sats; its challenge needs at least ${spec.values.bond + fee} (the bond ${spec.values.bond} and a fee of ${fee}, less the connector, plus 330 of change)`,
      );
    }
    (outputs[1] as TxOutput).value = change;
    const tx: Tx = {
      version: GAME_TX_VERSION,
      inputs: [input(aOut(w), GAME_SEQUENCE_NO_LOCK), input(c.bondCoin, GAME_SEQUENCE_NO_LOCK)],
      outputs,
      locktime: 0,
    };
    const spends: GameInputSpend[] = [
      { output: l.challengeConnector, value: GAME_CONNECTOR_VALUE, leafIndex: 0 },
      { output: taprootOutput(c.key), value: c.bondCoin.value, leafIndex: undefined },
    ];
    add({ id: challengeId(w), kind: 'challenge', tx, spends, presigned: [0], fee, maxWeight });
    challengeTxids.push(txid(tx));
  });

  // The take: nobody challenged, so every A_w is still there.
  {
    const spends: GameInputSpend[] = [
      ...spec.challengers.map(() => ({
        output: l.challengeConnector,
        value: GAME_CONNECTOR_VALUE,
        leafIndex: 0,
      })),
      ...l.assertConnectors.map((b) => ({
        output: b.output,
        value: GAME_CONNECTOR_VALUE,
        leafIndex: b.leaves.get('take') as number,
      })),
      { output: l.stake.output, value: l.stakeValue, leafIndex: stakeLeaf('window') },
    ];
    const inputs = [
      ...spec.challengers.map((_, w) => input(aOut(w), GAME_SEQUENCE_NO_LOCK)),
      ...l.assertInputs.map((_, j) => input(bOut(j), GAME_SEQUENCE_NO_LOCK)),
      input(sOut, spec.timelocks.challenge),
    ];
    const outputs: TxOutput[] = [{ value: 0n, script: operatorPays }];
    const witness = spends.map((s) => covenantWitness(spec, s.output, s.leafIndex as number));
    const maxWeight = weightOf(inputs.length, outputs, witness);
    const fee = feeFor(spec.feeRate, maxWeight);
    (outputs[0] as TxOutput).value = spends.reduce((a, s) => a + s.value, 0n) - fee;
    add({
      id: 'take',
      kind: 'take',
      tx: { version: GAME_TX_VERSION, inputs, outputs, locktime: 0 },
      spends,
      presigned: inputs.map((_, j) => j),
      fee,
      maxWeight,
    });
  }

  // The assert: the operator's values over B_1 … B_m, and S after T_c, into D and every game's reserve.
  const assertOutputs: TxOutput[] = [
    { value: spec.values.stake, script: (funding[0] as (typeof funding)[number]).stake.scriptPubKey },
    ...funding.map((f) => ({ value: spec.values.reserve, script: f.reserve.scriptPubKey })),
    { value: GAME_CONNECTOR_VALUE, script: operatorPays },
  ];
  const assertTx: Tx = {
    version: GAME_TX_VERSION,
    inputs: [
      ...l.assertInputs.map((_, j) => input(bOut(j), GAME_SEQUENCE_NO_LOCK)),
      input(sOut, spec.timelocks.challenge),
    ],
    outputs: assertOutputs,
    locktime: 0,
  };
  add({
    id: 'assert',
    kind: 'assert',
    tx: assertTx,
    spends: [
      ...l.assertConnectors.map((b) => ({
        output: b.output,
        value: GAME_CONNECTOR_VALUE,
        leafIndex: b.leaves.get('assert') as number,
      })),
      { output: l.stake.output, value: l.stakeValue, leafIndex: stakeLeaf('window') },
    ],
    presigned: assertTx.inputs.map((_, j) => j),
    fee: l.assertFee,
    maxWeight: l.assertWeight,
  });
  const a = txid(assertTx);

  // Each challenger's assert-timeout: challenged and never asserted, w takes S and its bond back.
  const burn = (spec.values.stake * BigInt(spec.assertTimeoutBurnBps)) / 10_000n;
  spec.challengers.forEach((c, w) => {
    const bond = (funding[w] as (typeof funding)[number]).bond;
    const bondLeaf = findLeaf(bond, covenantLeaf(covenant));
    const ladder = spec.timeoutFeeRates ?? [spec.feeRate];
    for (const [rung, rate] of ladder.entries()) {
      const outputs: TxOutput[] = [
        { value: burn, script: BURN_SCRIPT_PUBKEY },
        { value: 0n, script: taprootOutput(c.key).scriptPubKey },
      ];
      const maxWeight = weightOf(2, outputs, [
        covenantWitness(spec, l.stake, stakeLeaf('timeout')),
        covenantWitness(spec, bond, bondLeaf),
      ]);
      const fee = feeFor(rate, maxWeight);
      const reward = l.stakeValue + spec.values.bond - burn - fee;
      if (reward < GAME_CONNECTOR_VALUE)
        fail(`The assert-timeout of challenger ${w} at ${rate} sat/vB leaves w ${reward} sats`);
      (outputs[1] as TxOutput).value = reward;
      add({
        id: assertTimeoutId(w, rung === 0 ? undefined : rate),
        kind: 'assertTimeout',
        tx: {
          version: GAME_TX_VERSION,
          inputs: [
            input(sOut, spec.timelocks.assertWindow),
            input({ txid: challengeTxids[w] as Uint8Array, vout: 0 }, GAME_SEQUENCE_NO_LOCK),
          ],
          outputs,
          locktime: 0,
        },
        spends: [
          { output: l.stake.output, value: l.stakeValue, leafIndex: stakeLeaf('timeout') },
          { output: bond, value: spec.values.bond, leafIndex: bondLeaf },
        ],
        presigned: [0, 1],
        fee,
        maxWeight,
      });
    }
  });

  // D's payout: every game left it alone until T_pay.
  {
    const stakeOut = (funding[0] as (typeof funding)[number]).stake;
    const payoutLeaf = findLeaf(stakeOut, covenantLeaf(covenant, spec.timelocks.payout));
    const outputs: TxOutput[] = [{ value: 0n, script: operatorPays }];
    const maxWeight = weightOf(1, outputs, [covenantWitness(spec, stakeOut, payoutLeaf)]);
    const fee = feeFor(spec.feeRate, maxWeight);
    (outputs[0] as TxOutput).value = spec.values.stake - fee;
    add({
      id: 'payout',
      kind: 'payout',
      tx: {
        version: GAME_TX_VERSION,
        inputs: [input({ txid: a, vout: 0 }, spec.timelocks.payout)],
        outputs,
        locktime: 0,
      },
      spends: [{ output: stakeOut, value: spec.values.stake, leafIndex: payoutLeaf }],
      presigned: [0],
      fee,
      maxWeight,
    });
  }

  const ids = new Set([...txs.values()].map((x) => bytesToHex(txid(x.tx))));
  if (ids.size !== txs.size) fail(`${txs.size - ids.size} of the claim's transactions repeat another's txid`);

  const games = gameSpecs.map((g, w) =>
    buildGameGraph(g, {
      stake: { txid: a, vout: 0 },
      reserve: { txid: a, vout: 1 + w },
      bond: { txid: challengeTxids[w] as Uint8Array, vout: 0 },
    }),
  );
  return {
    spec,
    claim: { output: l.claimOutput, value: l.claimValue },
    challengeConnector: l.challengeConnector,
    assertConnectors: l.assertConnectors,
    stake: l.stake,
    assertMove: l.assertMove,
    assertInputs: l.assertInputs,
    txs,
    presigned,
    games,
  };
}
