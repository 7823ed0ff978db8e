/**
 * The transactions of one narrowing game (docs/protocol.md §24.6): every move the operator and one
 * challenger w can make, presigned by the covenant so every txid is fixed before the game starts, and the
 * slashes that take the stake D when the operator is disproved, equivocates or falls silent. Built
 * deterministically from its spec, so a watcher rebuilds an imported game and compares byte for byte.
 * Pure: no I/O.
 *
 *   C_w (bond) + Q_w (reserve) ─ choice_1 ─ answer_2 ─ … ─ choice_R ─ reveal ─┬─ requestRead ─ read/answer′_1 ─ … ─ read/reveal′
 *                                                                            └─ requestTape ─ tape/tapeReveal1 ─ tape/tapeReveal2
 *   every move's output 0 (the pot):  the next moves' first inputs · t CSV <the side that wins if the
 *                                     next mover is silent> · the disproves, refusals and equivocations
 *                                     of output-leaves.ts
 *   outputs 1 … c: connectors for the next move's further inputs (a move's values fill up to 5 inputs)
 *   last output: a 330-sat anchor to the mover's key, for CPFP
 *   slash:<s>   = [D (covenant), pot of s] → burn + w   through any of w's disprove or equivocation leaves
 *   timeout:<s> = the same through the timeout, after t  where the operator moves next (it was silent)
 *                 each at every rung of its fee ladder (`<id>@<rate>`), so w can outbid a late move
 *   forfeit = [C_w (after t), Q_w (after t)] → operator   w made no first choice
 *
 * The pot carries w's bond b and both sides' fee reserves from move to move and pays each move's
 * presigned fee; whoever wins takes what is left. Fees are presigned at `feeRate` on each transaction's
 * largest witness, so each pays at least that rate alone (Bitcoin Core 26 relays no parent below its
 * minimum fee), and the mover bumps through its anchor. The covenant signs SIGHASH_DEFAULT (ALL) only.
 */

import {
  findLeaf,
  type TaprootOutput,
  taprootOutput,
  UNSPENDABLE_INTERNAL_KEY,
} from '../../bitcoin/taproot/output.ts';
import { balancedShape, buildTapTree, type TapLeaf } from '../../bitcoin/taproot/tree.ts';
import { txid } from '../../bitcoin/tx/serialize.ts';
import type { Prevout, Tx, TxInput, TxOutput } from '../../bitcoin/tx/types.ts';
import { bytesToHex } from '../../core/bytes.ts';
import { VigilError } from '../../core/errors.ts';
import { BURN_DUST_LIMIT, BURN_SCRIPT_PUBKEY, covenantLeaf } from '../graph/scripts.ts';
import type { WotsPublicKey } from '../winternitz/keys.ts';
import { roundBits } from './grid.ts';
import { type Move, type MoveInputScript, type MoveShape, moveInputs } from './move-inputs.ts';
import {
  type GameLeaf,
  type GameLeafSpec,
  gameMoveSites,
  gameOutputLeaves,
  type LeafSite,
} from './output-leaves.ts';
import { type GameSigner, keyOf } from './signer-keys.ts';
import { feeFor, weightOf, witnessBytes, wotsItemBytes } from './tx-size.ts';

export class GameGraphError extends VigilError {
  override name = 'GameGraphError';
}

export const GAME_TX_VERSION = 2;
/** Bitcoin Core's default `maxfeerate` for sendrawtransaction (0.10 BTC/kvB), in sat/vB. */
export const CORE_MAX_FEE_RATE = 10_000n;
/** Signals RBF and leaves BIP-68 relative locks off (bit 31 set). */
export const GAME_SEQUENCE_NO_LOCK = 0xfffffffd;
const MAX_RELATIVE_BLOCKS = 0xffff;
/**
 * Core's P2TR dust limit at the default dust relay fee: every connector and anchor holds exactly this,
 * but the kick-off's anchor, which also returns the claim output's surplus to the operator.
 */
export const GAME_CONNECTOR_VALUE = 330n;
/**
 * The most witness bytes a leaf's items can take below its script and control block: tapscript's
 * 1,000-item stack limit, each item at most a 20-byte hash and its length byte, and a few Schnorr
 * signatures. A slash's presigned fee covers its largest leaf with this many item bytes.
 */
export const MAX_LEAF_ITEM_BYTES = 1_000 * 21 + 4 * 65;

export type GameTimelocks = {
  /** t: blocks each side has for its move after the opponent's last one confirmed (§24.2). */
  readonly move: number;
  /** D's payout to the operator, from the assert (T_pay): the claim graph's, needed for D's script. */
  readonly payout: number;
  /** T_a: the latest the assert can confirm, in blocks after the kick-off (so after w's challenge too). */
  readonly assertWindow: number;
  /**
   * w's bond returns to it after this many blocks from the challenge if no game ever spends it (the claim
   * was never asserted). It must mature after the latest forfeit, T_a + t: a griefer could otherwise
   * force an assert and take its bond back before the operator can claim it.
   */
  readonly bondRefund: number;
};

export type GameGraphSpec = GameLeafSpec & {
  /** The covenant's x-only keys (the operator and the committee, n-of-n), in signing order. */
  readonly covenant: readonly Uint8Array[];
  readonly timelocks: GameTimelocks;
  /** sat/vB the presigned fees pay on each transaction's largest witness. */
  readonly feeRate: bigint;
  /**
   * The rates (sat/vB, rising, the first at least `feeRate`) each disprove or equivocation slash is
   * presigned at: `slash:<site>` at the first, `slash:<site>@<rate>` at the others. Default: `feeRate`.
   */
  readonly slashFeeRates?: readonly bigint[];
  /**
   * The same for w's timeout slashes (`timeout:<site>`, `timeout:<site>@<rate>`). These race a late
   * operator move that is still unconfirmed when t runs out, and replace it only with more absolute fee
   * than it and its descendants (BIP-125), so their ladder climbs higher: they are small transactions.
   */
  readonly timeoutFeeRates?: readonly bigint[];
  /** Share of D a slash burns, in basis points; the rest goes to w. */
  readonly burnBps: number;
  /** D, Q_w (the operator's fee reserve for this game) and C_w (w's bond and fee reserve). */
  readonly values: { readonly stake: bigint; readonly reserve: bigint; readonly bond: bigint };
};

export type Outpoint = { readonly txid: Uint8Array; readonly vout: number };
/** Where D, Q_w and C_w are: the assert's outputs and w's challenge output. */
export type GameOutpoints = { readonly stake: Outpoint; readonly reserve: Outpoint; readonly bond: Outpoint };

/** A game's moves, slashes and forfeit, and the claim graph's own transactions (claim-graph.ts). */
export type GameTxKind =
  | 'move'
  | 'slash'
  | 'forfeit'
  | 'kickoff'
  | 'challenge'
  | 'take'
  | 'assert'
  | 'assertTimeout'
  | 'payout';

/** One input of a game transaction: the output and leaf it spends (undefined leaf: chosen at spend time). */
export type GameInputSpend = {
  readonly output: TaprootOutput;
  readonly value: bigint;
  /** Fixed for presigned inputs; a slash's pot input picks its leaf (a disprove, equivocation or timeout) when spent. */
  readonly leafIndex: number | undefined;
};

export type GameTx = {
  readonly id: string;
  readonly kind: GameTxKind;
  readonly tx: Tx;
  readonly spends: readonly GameInputSpend[];
  /** Input indices the covenant presigns. */
  readonly presigned: readonly number[];
  readonly fee: bigint;
  /** The weight with the largest witness its inputs can carry: what `fee` pays for at the spec's rate. */
  readonly maxWeight: number;
};

/** A move's transaction and the outputs it creates. */
export type GameNode = {
  readonly id: string;
  readonly move: Move;
  readonly parent: string | undefined;
  readonly inputs: readonly MoveInputScript[];
  /** Output 0: the pot; its leaves by name (the next moves' first inputs are `move:<id>`). */
  readonly pot: TaprootOutput;
  readonly leaves: ReadonlyMap<string, number>;
  readonly connectors: readonly TaprootOutput[];
  readonly anchor: TaprootOutput;
};

export type GameGraph = {
  readonly spec: GameGraphSpec;
  readonly outpoints: GameOutpoints;
  readonly stake: TaprootOutput;
  readonly reserve: TaprootOutput;
  readonly reserveLeaves: ReadonlyMap<string, number>;
  readonly bond: TaprootOutput;
  readonly bondLeaves: ReadonlyMap<string, number>;
  readonly nodes: ReadonlyMap<string, GameNode>;
  readonly txs: ReadonlyMap<string, GameTx>;
  /** Every presigned input, in a fixed order: (transaction id, input). */
  readonly presigned: readonly { readonly tx: string; readonly input: number }[];
};

function fail(message: string): never {
  throw new GameGraphError(message);
}

export function checkGameSpec(spec: GameGraphSpec): void {
  for (const [name, v] of Object.entries(spec.timelocks)) {
    if (!Number.isInteger(v) || v < 1 || v > MAX_RELATIVE_BLOCKS)
      fail(`Timelock ${name} = ${v} is not 1..65535 blocks`);
  }
  const { assertWindow, bondRefund, move } = spec.timelocks;
  if (bondRefund <= assertWindow + move) {
    fail(
      `The bond refund after ${bondRefund} blocks must mature after the latest forfeit (T_a + t = ${assertWindow + move}): a griefer could otherwise force an assert and take its bond back first`,
    );
  }
  // The longest game is 4R + 3 moves after the assert (choice 1, R − 1 answers and choices, the reveal, a
  // request, R answers′ and choices′, reveal′, the slash), each within t of the last: D's payout must not
  // mature before it ends, or a lying operator would take D out from under an unfinished game.
  const longest = (4 * roundBits(spec.shape).length + 4) * spec.timelocks.move;
  if (spec.timelocks.payout < longest) {
    fail(
      `D's payout after ${spec.timelocks.payout} blocks could mature mid-game: the longest game takes ${longest} blocks at t = ${spec.timelocks.move}`,
    );
  }
  if (spec.covenant.length === 0) fail('The game needs a covenant');
  for (const [name, rates] of [
    ['slash', spec.slashFeeRates],
    ['timeout', spec.timeoutFeeRates],
  ] as const) {
    const r = rates ?? [spec.feeRate];
    if (
      r.length === 0 ||
      (r[0] as bigint) < spec.feeRate ||
      r.some((x, k) => k > 0 && x <= (r[k - 1] as bigint))
    ) {
      fail(`The ${name} fee ladder must rise, from at least the presigned fee rate`);
    }
  }
  if (spec.feeRate < 1n)
    fail('Presigned fees pay at least 1 sat/vB: Core relays nothing below its minimum fee');
  if (!Number.isInteger(spec.burnBps) || spec.burnBps < 0 || spec.burnBps > 10_000)
    fail('burnBps is 0..10000');
  const burn = (spec.values.stake * BigInt(spec.burnBps)) / 10_000n;
  if (burn < BURN_DUST_LIMIT)
    fail(`A slash would burn ${burn} sats, below the ${BURN_DUST_LIMIT}-sat P2WSH dust limit`);
  for (const [name, v] of Object.entries(spec.values))
    if (v <= 0n) fail(`The ${name} value must be positive`);
}

/** D's script: every presigned slash spends it through the covenant; the operator's payout after T_pay. */
export function stakeOutput(covenant: readonly Uint8Array[], payoutBlocks: number): TaprootOutput {
  return taprootOutput(
    UNSPENDABLE_INTERNAL_KEY,
    buildTapTree([{ script: covenantLeaf(covenant) }, { script: covenantLeaf(covenant, payoutBlocks) }]),
  );
}

const STAKE_SLASH_LEAF = 0;

/** The Move (with keys) of a move shape: its values under the mover's keys, its echoes pairing both. */
export function keyedMove(spec: GameGraphSpec, shape: MoveShape): Move {
  const mover = shape.mover;
  const other = mover === 'operator' ? 'challenger' : 'operator';
  return {
    name: shape.name,
    mover,
    values: shape.values.map((v) => ({
      label: v.label,
      key: keyOf(spec.keys[mover], v.label, v.bytes, mover),
    })),
    echoes: shape.echoes.map((e) => ({
      label: e.label,
      theirs: keyOf(spec.keys[other], e.label, e.bytes, other),
      ours: keyOf(spec.keys[mover], `echo.${e.label}`, e.bytes, mover),
    })),
  };
}

/** Each game move with its parent: the tree the transactions follow. */
function moveTree(spec: GameGraphSpec): { id: string; move: Move; parent: string | undefined }[] {
  const out: { id: string; move: Move; parent: string | undefined }[] = [];
  // The last move so far on the main line and in each branch; a branch starts at its request.
  const last = new Map<string, string>([
    ['read', 'requestRead'],
    ['tape', 'requestTape'],
  ]);
  let main: string | undefined;
  for (const { site, move } of gameMoveSites(spec.shape)) {
    if (site === 'reserve') continue; // the assert: the claim graph's, shared by every game
    const slash = site.indexOf('/');
    let parent: string | undefined;
    if (slash >= 0) {
      const branch = site.slice(0, slash);
      parent = last.get(branch);
      last.set(branch, site);
    } else if (move.name.startsWith('request')) {
      parent = 'reveal';
    } else {
      parent = main;
      main = site;
    }
    out.push({ id: site, move: keyedMove(spec, move), parent });
  }
  return out;
}

/** The most bytes a move input's items take: each digit's hash and digit, each echo's two, its Schnorr signatures. */
export function moveItemBytes(input: MoveInputScript, schnorrSigs: number): { count: number; bytes: number } {
  let count = schnorrSigs;
  let bytes = schnorrSigs * 65;
  const value = (key: WotsPublicKey) => {
    const v = wotsItemBytes(key);
    count += v.count;
    bytes += v.bytes;
  };
  for (const v of input.values) value(v.key);
  for (const e of input.echoes) {
    value(e.theirs);
    value(e.ours);
  }
  return { count, bytes };
}

function input(out: Outpoint, sequence: number): TxInput {
  return { prevTxid: out.txid, vout: out.vout, scriptSig: new Uint8Array(), sequence, witness: [] };
}

/** A taproot output over `leaves` (balanced), with its leaves' indices by name. */
export function treeOutput(leaves: readonly { name: string; script: Uint8Array }[]): {
  output: TaprootOutput;
  index: Map<string, number>;
} {
  const index = new Map<string, number>();
  const unique: TapLeaf[] = [];
  const byScript = new Map<string, number>();
  for (const l of leaves) {
    const hex = bytesToHex(l.script);
    let k = byScript.get(hex);
    if (k === undefined) {
      k = unique.length;
      unique.push({ script: l.script });
      byScript.set(hex, k);
    }
    if (index.has(l.name)) fail(`Two leaves named ${l.name} on one output`);
    index.set(l.name, k);
  }
  const output = taprootOutput(UNSPENDABLE_INTERNAL_KEY, buildTapTree(balancedShape(unique)));
  // buildTapTree lists leaves in the shape's order, which is `unique`'s order.
  return { output, index };
}

export const depthOf = (output: TaprootOutput, leaf: number): number => output.leaves[leaf]?.path.length ?? 0;

/**
 * The leaves of a spec, built once per spec object: the scripts do not depend on the outpoints, so a
 * graph built first on placeholder outpoints (to learn its output scripts) and again on the real ones
 * builds its leaves once.
 */
const leafCache = new WeakMap<GameGraphSpec, Map<LeafSite, GameLeaf[]>>();
function leavesOf(spec: GameGraphSpec): Map<LeafSite, GameLeaf[]> {
  let leaves = leafCache.get(spec);
  if (leaves === undefined) {
    leaves = gameOutputLeaves(spec);
    leafCache.set(spec, leaves);
  }
  return leaves;
}

/**
 * Who spends leaf `name` of `site`'s output (`reserve` or a move id): a judged leaf's spender, or for a
 * pot's `timeout` whoever wins when the next mover is silent. Undefined for a name the site does not have.
 */
export function leafSpender(graph: GameGraph, site: string, name: string): GameSigner | undefined {
  if (name === 'timeout') {
    if (site === 'reserve') return 'operator';
    const mover = graph.nodes.get(site)?.move.mover;
    if (mover === undefined) return undefined;
    return mover === 'challenger' ? 'challenger' : 'operator';
  }
  return leavesOf(graph.spec)
    .get(site)
    ?.find((l) => l.name === name)?.spender;
}

/** The outputs the claim graph and w's challenge create for one game: D, Q_w and C_w, with their leaves. */
function fundingTrees(
  spec: GameGraphSpec,
  firstId: string,
  firstInputs: readonly MoveInputScript[],
): {
  stake: TaprootOutput;
  reserve: { output: TaprootOutput; index: Map<string, number> };
  bond: { output: TaprootOutput; index: Map<string, number> };
} {
  if (firstInputs.length !== 1) fail(`${firstId} must fit one input; it needs ${firstInputs.length}`);
  const w = spec.challenger;
  return {
    stake: stakeOutput(spec.covenant, spec.timelocks.payout),
    reserve: treeOutput([
      { name: `move:${firstId}`, script: covenantLeaf([...spec.covenant, w]) },
      { name: 'timeout', script: covenantLeaf([spec.operator], spec.timelocks.move) },
      ...(leavesOf(spec).get('reserve') ?? []),
    ]),
    // `forfeit` waits t after w's own challenge confirmed, not only after the assert: a challenge that
    // confirms late (or that the operator gets mined late, with the forfeit as its child) still leaves w
    // its t for choice 1. `covenant`: the claim graph's assert-timeout of w's challenge.
    bond: treeOutput([
      { name: `move:${firstId}`, script: firstInputs[0]?.script as Uint8Array },
      { name: 'forfeit', script: covenantLeaf(spec.covenant, spec.timelocks.move) },
      { name: 'covenant', script: covenantLeaf(spec.covenant) },
      { name: 'refund', script: covenantLeaf([w], spec.timelocks.bondRefund) },
    ]),
  };
}

/**
 * D's, Q_w's and C_w's output scripts for a spec, without building the moves: what the claim graph needs
 * to build the assert and w's challenge before the game's own transactions (whose txids follow from them).
 */
export function gameFundingOutputs(spec: GameGraphSpec): {
  stake: TaprootOutput;
  reserve: TaprootOutput;
  bond: TaprootOutput;
} {
  checkGameSpec(spec);
  const first = moveTree(spec)[0];
  if (first === undefined) fail('The game has no moves');
  const inputs = moveInputs(first.move, { covenant: spec.covenant, mover: spec.challenger });
  const t = fundingTrees(spec, first.id, inputs);
  return { stake: t.stake, reserve: t.reserve.output, bond: t.bond.output };
}

/** Builds every transaction of one game. The scripts do not depend on the outpoints; the txids do. */
export function buildGameGraph(spec: GameGraphSpec, outpoints: GameOutpoints): GameGraph {
  checkGameSpec(spec);
  const t = spec.timelocks.move;
  const w = spec.challenger;
  const signers = (m: Move) => ({
    covenant: spec.covenant,
    ...(m.mover === 'challenger' ? { mover: w } : {}),
  });
  const tree = moveTree(spec);
  const inputsOf = new Map(tree.map((n) => [n.id, moveInputs(n.move, signers(n.move))]));
  const childrenOf = (id: string | undefined) => tree.filter((n) => n.parent === id);
  const siteLeaves = leavesOf(spec);
  const leavesAt = (site: LeafSite): GameLeaf[] => siteLeaves.get(site) ?? [];
  const nextInputLeaves = (id: string | undefined, j: number) =>
    childrenOf(id).flatMap((c) => {
      const s = (inputsOf.get(c.id) as MoveInputScript[])[j];
      return s === undefined ? [] : [{ name: `move:${c.id}`, script: s.script }];
    });

  const first = tree[0] as (typeof tree)[number];
  const firstInputs = inputsOf.get(first.id) as MoveInputScript[];
  const { stake, reserve: reserveTree, bond: bondTree } = fundingTrees(spec, first.id, firstInputs);

  const nodes = new Map<string, GameNode>();
  const txs = new Map<string, GameTx>();
  const presigned: { tx: string; input: number }[] = [];
  const burn = (spec.values.stake * BigInt(spec.burnBps)) / 10_000n;
  const payTo = (key: Uint8Array) => taprootOutput(key).scriptPubKey;
  const ladder = (kind: 'slash' | 'timeout') =>
    (kind === 'slash' ? spec.slashFeeRates : spec.timeoutFeeRates) ?? [spec.feeRate];

  /** The slash of a pot: [D, pot] → burn + w, for any leaf of the pot w may spend. */
  const addSlash = (
    site: string,
    pot: TaprootOutput,
    potValue: number | bigint,
    potOut: Outpoint,
    sequence: number,
    wLeaves: number[],
    kind: 'slash' | 'timeout' = 'slash',
  ) => {
    const value = BigInt(potValue);
    const stakeLeafWitness = witnessBytes(
      spec.covenant.length,
      spec.covenant.length * 65,
      stake.leaves[STAKE_SLASH_LEAF]?.script as Uint8Array,
      depthOf(stake, STAKE_SLASH_LEAF),
    );
    // A timeout leaf takes w's signature alone; a disprove leaf up to the stack's 1,000 items.
    const potWitness = Math.max(
      ...wLeaves.map((k) =>
        kind === 'timeout'
          ? witnessBytes(1, 65, pot.leaves[k]?.script as Uint8Array, depthOf(pot, k))
          : witnessBytes(1_000, MAX_LEAF_ITEM_BYTES, pot.leaves[k]?.script as Uint8Array, depthOf(pot, k)),
      ),
    );
    // The smallest the pot's input can be: the smallest of its leaves with one signature. A slash spent
    // through it pays its presigned fee on that size, which must stay under what Bitcoin Core's
    // sendrawtransaction accepts by default (and Esplora servers send with the default).
    const potWitnessMin = Math.min(
      ...wLeaves.map((k) => witnessBytes(1, 65, pot.leaves[k]?.script as Uint8Array, depthOf(pot, k))),
    );
    // One version per rung of the fee ladder, each presigned: a slash has no children, so w can pick
    // the rung that outbids what the operator put in the way (BIP-125 wants more absolute fee and a
    // higher feerate than a late move it replaces, and that move's descendants).
    for (const [rung, rate] of ladder(kind).entries()) {
      const outputs: TxOutput[] = [
        { value: burn, script: BURN_SCRIPT_PUBKEY },
        { value: 0n, script: payTo(w) },
      ];
      const maxWeight = weightOf(2, outputs, [stakeLeafWitness, potWitness]);
      const fee = feeFor(rate, maxWeight);
      const reward = spec.values.stake - burn + value - fee;
      if (reward < GAME_CONNECTOR_VALUE) {
        fail(`The ${kind} slash of ${site} at ${rate} sat/vB would leave w ${reward} sats`);
      }
      const minVsize = Math.ceil(weightOf(2, outputs, [stakeLeafWitness, potWitnessMin]) / 4);
      if (fee > CORE_MAX_FEE_RATE * BigInt(minVsize)) {
        fail(
          `The ${kind} slash of ${site} at ${rate} sat/vB pays ${fee} sats, over ${CORE_MAX_FEE_RATE} sat/vB when spent through its smallest leaf (${minVsize} vB): Bitcoin Core's sendrawtransaction refuses that by default`,
        );
      }
      (outputs[1] as TxOutput).value = reward;
      const tx: Tx = {
        version: GAME_TX_VERSION,
        inputs: [input(outpoints.stake, GAME_SEQUENCE_NO_LOCK), input(potOut, sequence)],
        outputs,
        locktime: 0,
      };
      const id = slashId(kind, site, rung === 0 ? undefined : rate);
      txs.set(id, {
        id,
        kind: 'slash',
        tx,
        spends: [
          { output: stake, value: spec.values.stake, leafIndex: STAKE_SLASH_LEAF },
          { output: pot, value, leafIndex: undefined },
        ],
        presigned: [0],
        fee,
        maxWeight,
      });
      presigned.push({ tx: id, input: 0 });
    }
  };

  // Q_w's own transactions: the assert's slash (its leaves judge the assert), and the forfeit.
  const reserveW = [...reserveTree.index]
    .filter(([n]) => leavesAt('reserve').some((l) => l.name === n && l.spender === 'challenger'))
    .map(([, k]) => k);
  addSlash(
    'reserve',
    reserveTree.output,
    spec.values.reserve,
    outpoints.reserve,
    GAME_SEQUENCE_NO_LOCK,
    reserveW,
  );
  {
    const outputs: TxOutput[] = [{ value: 0n, script: payTo(spec.operator) }];
    const bondWitness = witnessBytes(
      spec.covenant.length,
      spec.covenant.length * 65,
      bondTree.output.leaves[bondTree.index.get('forfeit') as number]?.script as Uint8Array,
      depthOf(bondTree.output, bondTree.index.get('forfeit') as number),
    );
    const timeoutLeaf = reserveTree.index.get('timeout') as number;
    const reserveWitness = witnessBytes(
      1,
      65,
      reserveTree.output.leaves[timeoutLeaf]?.script as Uint8Array,
      depthOf(reserveTree.output, timeoutLeaf),
    );
    const maxWeight = weightOf(2, outputs, [bondWitness, reserveWitness]);
    const fee = feeFor(spec.feeRate, maxWeight);
    (outputs[0] as TxOutput).value = spec.values.bond + spec.values.reserve - fee;
    txs.set('forfeit', {
      id: 'forfeit',
      kind: 'forfeit',
      tx: {
        version: GAME_TX_VERSION,
        inputs: [input(outpoints.bond, t), input(outpoints.reserve, t)],
        outputs,
        locktime: 0,
      },
      spends: [
        {
          output: bondTree.output,
          value: spec.values.bond,
          leafIndex: bondTree.index.get('forfeit') as number,
        },
        { output: reserveTree.output, value: spec.values.reserve, leafIndex: timeoutLeaf },
      ],
      presigned: [0],
      fee,
      maxWeight,
    });
    presigned.push({ tx: 'forfeit', input: 0 });
  }

  // The moves, parents before children.
  for (const n of tree) {
    const ins = inputsOf.get(n.id) as MoveInputScript[];
    const kids = childrenOf(n.id);
    const connectors = Math.max(0, ...kids.map((c) => (inputsOf.get(c.id) as MoveInputScript[]).length - 1));
    // Who must act next on this output: the next moves' mover, or w (a disprove) after the last move.
    // If that side stays silent for t, the other takes the pot (and, if the operator was silent, D).
    const next = kids[0]?.move.mover ?? 'challenger';
    if (kids.some((c) => c.move.mover !== next)) fail(`${n.id}: its next moves are not all one side's`);
    // Two operator moves on one leaf would let anyone move the operator's witness from one to the other
    // (its moves carry no signature of its own): the graph must give each its own output.
    if (next === 'operator' && kids.length > 1) fail(`${n.id}: two operator moves would share its pot`);
    const silentWinner = next === 'operator' ? w : spec.operator;
    const potTree = treeOutput([
      ...nextInputLeaves(n.id, 0),
      { name: 'timeout', script: covenantLeaf([silentWinner], t) },
      ...leavesAt(n.id),
    ]);
    const connectorOutputs = Array.from(
      { length: connectors },
      (_, j) => treeOutput(nextInputLeaves(n.id, j + 1)).output,
    );
    const anchor = taprootOutput(n.move.mover === 'challenger' ? w : spec.operator);

    // What the move spends: the parent's pot and connectors, or, for choice 1, C_w and Q_w.
    const spends: GameInputSpend[] = [];
    const txInputs: TxInput[] = [];
    if (n.parent === undefined) {
      spends.push(
        {
          output: bondTree.output,
          value: spec.values.bond,
          leafIndex: bondTree.index.get(`move:${n.id}`) as number,
        },
        {
          output: reserveTree.output,
          value: spec.values.reserve,
          leafIndex: reserveTree.index.get(`move:${n.id}`) as number,
        },
      );
      txInputs.push(
        input(outpoints.bond, GAME_SEQUENCE_NO_LOCK),
        input(outpoints.reserve, GAME_SEQUENCE_NO_LOCK),
      );
    } else {
      const parent = nodes.get(n.parent) as GameNode;
      const parentTx = txs.get(n.parent) as GameTx;
      const parentId = txid(parentTx.tx);
      const potValue = parentTx.tx.outputs[0]?.value as bigint;
      spends.push({
        output: parent.pot,
        value: potValue,
        leafIndex: parent.leaves.get(`move:${n.id}`) as number,
      });
      txInputs.push(input({ txid: parentId, vout: 0 }, GAME_SEQUENCE_NO_LOCK));
      for (let j = 1; j < ins.length; j++) {
        const c = parent.connectors[j - 1];
        if (c === undefined) fail(`${n.parent} makes no connector ${j} for ${n.id}`);
        const leaf = findLeaf(c, (ins[j] as MoveInputScript).script);
        spends.push({ output: c, value: GAME_CONNECTOR_VALUE, leafIndex: leaf });
        txInputs.push(input({ txid: parentId, vout: j }, GAME_SEQUENCE_NO_LOCK));
      }
    }
    const outputs: TxOutput[] = [
      { value: 0n, script: potTree.output.scriptPubKey },
      ...connectorOutputs.map((c) => ({ value: GAME_CONNECTOR_VALUE, script: c.scriptPubKey })),
      { value: GAME_CONNECTOR_VALUE, script: anchor.scriptPubKey },
    ];
    const schnorr = spec.covenant.length + (n.move.mover === 'challenger' ? 1 : 0);
    const witness = ins.map((s, j) => {
      const items = moveItemBytes(s, schnorr);
      const spend = spends[j] as GameInputSpend;
      return witnessBytes(
        items.count,
        items.bytes,
        s.script,
        depthOf(spend.output, spend.leafIndex as number),
      );
    });
    if (n.parent === undefined) {
      const join = spends[1] as GameInputSpend;
      witness.push(
        witnessBytes(
          schnorr,
          schnorr * 65,
          join.output.leaves[join.leafIndex as number]?.script as Uint8Array,
          depthOf(join.output, join.leafIndex as number),
        ),
      );
    }
    const maxWeight = weightOf(txInputs.length, outputs, witness);
    const fee = feeFor(spec.feeRate, maxWeight);
    const inValue = spends.reduce((a, s) => a + s.value, 0n);
    const pot = inValue - GAME_CONNECTOR_VALUE * BigInt(connectors + 1) - fee;
    if (pot < GAME_CONNECTOR_VALUE) {
      fail(
        `The bond and the reserves do not cover the game's fees at ${spec.feeRate} sat/vB: ${n.id} would leave a pot of ${pot} sats`,
      );
    }
    (outputs[0] as TxOutput).value = pot;
    const tx: Tx = { version: GAME_TX_VERSION, inputs: txInputs, outputs, locktime: 0 };
    const presignedInputs = txInputs.map((_, j) => j);
    txs.set(n.id, { id: n.id, kind: 'move', tx, spends, presigned: presignedInputs, fee, maxWeight });
    for (const j of presignedInputs) presigned.push({ tx: n.id, input: j });
    nodes.set(n.id, {
      id: n.id,
      move: n.move,
      parent: n.parent,
      inputs: ins,
      pot: potTree.output,
      leaves: potTree.index,
      connectors: connectorOutputs,
      anchor,
    });

    // Its slashes: through w's disprove and equivocation leaves at once; through the timeout after t
    // when the operator is the side that must move next.
    const potOut = { txid: txid(tx), vout: 0 };
    const wLeaves = [...potTree.index]
      .filter(([name]) => leavesAt(n.id).some((l) => l.name === name && l.spender === 'challenger'))
      .map(([, k]) => k);
    if (wLeaves.length > 0) addSlash(n.id, potTree.output, pot, potOut, GAME_SEQUENCE_NO_LOCK, wLeaves);
    if (next === 'operator') {
      addSlash(n.id, potTree.output, pot, potOut, t, [potTree.index.get('timeout') as number], 'timeout');
    }
  }

  // Every transaction its own txid: two presigned transactions with one txid would be one transaction,
  // and whichever witness confirmed would decide which of them it was.
  const ids = new Set([...txs.values()].map((x) => bytesToHex(txid(x.tx))));
  if (ids.size !== txs.size) fail(`${txs.size - ids.size} of the game's transactions repeat another's txid`);

  return {
    spec,
    outpoints,
    stake,
    reserve: reserveTree.output,
    reserveLeaves: reserveTree.index,
    bond: bondTree.output,
    bondLeaves: bondTree.index,
    nodes,
    txs,
    presigned,
  };
}

/** The id of a slash (`slash`: a disprove or equivocation; `timeout`: the operator was silent) at a rung. */
export function slashId(kind: 'slash' | 'timeout', site: string, rate?: bigint): string {
  return rate === undefined ? `${kind}:${site}` : `${kind}:${site}@${rate}`;
}

/** The prevouts of a game transaction, in input order. */
export function gameTxPrevouts(gtx: GameTx): Prevout[] {
  return gtx.spends.map((s) => ({ value: s.value, script: s.output.scriptPubKey }));
}

/** A game transaction by id, or a clear error. */
export function gameTx(graph: { readonly txs: ReadonlyMap<string, GameTx> }, id: string): GameTx {
  return graph.txs.get(id) ?? fail(`The game has no transaction ${id}`);
}
