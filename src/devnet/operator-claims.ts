/**
 * The devnet operator's claim bookkeeping: what it claimed per epoch, which outputs of each claim it
 * watches and what the chain did to them, and the state each claim is in. No I/O: the operator feeds it
 * the transactions of each new block.
 */
import type { BlockTx } from '../bitcoin/backends/types.ts';
import { hashToDisplayHex } from '../bitcoin/tx/serialize.ts';
import { equalBytes } from '../core/bytes.ts';
import { VigilError } from '../core/errors.ts';
import type { Graph } from '../dispute/graph/build.ts';
import type { PresignedSignatures } from '../dispute/graph/sign.ts';
import type { WotsSecretKey } from '../dispute/winternitz/keys.ts';
import { PARAM_SPECS } from '../governance/params.ts';
import { devnetGraphParameters } from './operator-graph.ts';
import type { ClaimState, ClaimView, SendKind } from './strategies/types.ts';

export class DevnetOperatorError extends VigilError {
  override name = 'DevnetOperatorError';
}

export type EpochClaim = {
  epoch: bigint;
  stateRoot: Uint8Array;
  l2BlockHash: Uint8Array;
  /** r_0 … r_k, k = the graph's trace steps; checkpoints[k] equals stateRoot. */
  checkpoints: Uint8Array[];
  /** The reference model's root, when the devnet knows it (strategies aim their attacks with it). */
  referenceRoot?: Uint8Array;
  /** T_c of the epoch's graph: the governed `challengeWindow` in force during the epoch (§2, §20). */
  challengeWindow: number;
};

export type TrackedClaim = {
  epoch: bigint;
  fraud: boolean | undefined;
  checkpoints: Uint8Array[];
  graph: Graph;
  sigs: PresignedSignatures;
  traceSecrets: WotsSecretKey[];
  graphFile: string;
  kickoffTxid: string;
  /** The ids of the operator's own spends, fixed by the graph. */
  ids: Record<SendKind, string>;
  kickoffHeight: number | undefined;
  assertHeight: number | undefined;
  /** Confirmed spenders of connector A, the stake S and the asserted output D. */
  spent: { a?: string; s?: string; d?: string };
  /** The operator's broadcasts the mempool accepted. */
  sent: Set<SendKind>;
  reported: ClaimState;
  /** The strategy said it will never assert this claim. */
  neverAssert: boolean;
};

type Watch = { claim: TrackedClaim; output: 'a' | 's' | 'd' };

const outpointKey = (txidHex: string, vout: number) => `${txidHex}:${vout}`;

/** The state a claim is in, from what the chain confirmed and what the operator broadcast since. */
export function stateOf(c: TrackedClaim): ClaimState {
  const { a, s, d } = c.spent;
  if (d !== undefined) return d === c.ids.payout ? 'paid-out' : 'disproved';
  if (s !== undefined && s !== c.ids.take && s !== c.ids.assert) return 'slashed';
  if (s === c.ids.take || a === c.ids.take) return 'taken';
  if (s === c.ids.assert || c.sent.has('assert')) return c.sent.has('payout') ? 'paid-out' : 'asserted';
  if (a !== undefined) return 'challenged';
  return c.sent.has('take') ? 'taken' : 'kicked-off';
}

/**
 * The claim is over on Bitcoin, for good: its stake was taken back or slashed, or its asserted output
 * paid out or disproved, in a block. Nothing the operator or a strategy does can change it any more.
 */
export function settled(c: TrackedClaim): boolean {
  const { s, d } = c.spent;
  return d !== undefined || (s !== undefined && s !== c.ids.assert);
}

/** A strategy's read-only window on a tracked claim (a snapshot of its state now). */
export function viewOf(c: TrackedClaim): ClaimView {
  return {
    epoch: c.epoch,
    fraud: c.fraud,
    graph: c.graph,
    sigs: c.sigs,
    checkpoints: c.checkpoints,
    kickoffTxid: c.kickoffTxid,
    kickoffHeight: c.kickoffHeight,
    assertHeight: c.assertHeight,
    spent: { ...c.spent },
    sent: new Set(c.sent),
    state: stateOf(c),
  };
}

export const fraudOf = (e: EpochClaim): boolean | undefined =>
  e.referenceRoot === undefined ? undefined : !equalBytes(e.referenceRoot, e.stateRoot);

/** The caller's arrays are its own to reuse. */
const copyClaim = (e: EpochClaim): EpochClaim => ({
  ...(e.referenceRoot ? { referenceRoot: Uint8Array.from(e.referenceRoot) } : {}),
  epoch: e.epoch,
  stateRoot: Uint8Array.from(e.stateRoot),
  l2BlockHash: Uint8Array.from(e.l2BlockHash),
  checkpoints: e.checkpoints.map((r) => Uint8Array.from(r)),
  challengeWindow: e.challengeWindow,
});

function sameClaim(a: EpochClaim, b: EpochClaim): boolean {
  return (
    equalBytes(a.stateRoot, b.stateRoot) &&
    equalBytes(a.l2BlockHash, b.l2BlockHash) &&
    a.challengeWindow === b.challengeWindow &&
    a.checkpoints.length === b.checkpoints.length &&
    a.checkpoints.every((r, i) => equalBytes(r, b.checkpoints[i] as Uint8Array))
  );
}

export function checkClaim(c: EpochClaim): void {
  const k = devnetGraphParameters.traceSteps;
  if (c.epoch < 0n || c.epoch >= 1n << 64n) throw new DevnetOperatorError(`Epoch ${c.epoch} is not a u64`);
  for (const [name, v] of [
    ['state root', c.stateRoot],
    ['L2 block hash', c.l2BlockHash],
  ] as const) {
    if (v.length !== 32)
      throw new DevnetOperatorError(`Epoch ${c.epoch}: the ${name} is ${v.length} bytes, not 32`);
  }
  if (c.checkpoints.length !== k + 1 || c.checkpoints.some((r) => r.length !== 32)) {
    throw new DevnetOperatorError(
      `Epoch ${c.epoch}: the claim needs ${k + 1} 32-byte checkpoints r_0…r_${k}, got ${c.checkpoints.length}`,
    );
  }
  if (!equalBytes(c.checkpoints[k] as Uint8Array, c.stateRoot)) {
    throw new DevnetOperatorError(`Epoch ${c.epoch}: checkpoint r_${k} is not the claimed state root`);
  }
  const w = BigInt(c.challengeWindow);
  const spec = PARAM_SPECS.challengeWindow;
  if (!Number.isSafeInteger(c.challengeWindow) || w < spec.min || w > spec.max) {
    throw new DevnetOperatorError(
      `Epoch ${c.epoch}: challenge window ${c.challengeWindow} is outside the governed bounds [${spec.min}, ${spec.max}]`,
    );
  }
}

/** Every claim the operator made, and the outputs and heights of each it follows on the chain. */
export class ClaimBook {
  readonly #tracked = new Map<bigint, TrackedClaim>();
  readonly #watched = new Map<string, Watch>();
  /** Txids whose confirmation height matters: kick-offs and asserts. */
  readonly #heights = new Map<string, { claim: TrackedClaim; of: 'kickoff' | 'assert' }>();
  /** What each epoch's Winternitz keys signed (or were about to): they must never sign anything else. */
  readonly #signed = new Map<bigint, EpochClaim>();

  get(epoch: bigint): TrackedClaim | undefined {
    return this.#tracked.get(epoch);
  }

  all(): IterableIterator<TrackedClaim> {
    return this.#tracked.values();
  }

  /** Throws when the epoch was already claimed with other values. */
  checkNotSignedOtherwise(e: EpochClaim): void {
    const before = this.#signed.get(e.epoch);
    if (before !== undefined && !sameClaim(before, e)) {
      // A second kick-off under the same Winternitz keys would sign a second message with them.
      throw new DevnetOperatorError(`Epoch ${e.epoch} was already claimed with other values`);
    }
  }

  /** Records the values the epoch's keys are about to sign; returns the operator's own copy of them. */
  sign(e: EpochClaim): EpochClaim {
    const claim = copyClaim(e);
    this.#signed.set(e.epoch, claim);
    return claim;
  }

  /** Follows a kicked-off claim: the spends of connector A, the stake and the asserted output. */
  track(c: TrackedClaim): void {
    this.#tracked.set(c.epoch, c);
    this.#watched.set(outpointKey(c.kickoffTxid, 0), { claim: c, output: 'a' });
    this.#watched.set(outpointKey(c.kickoffTxid, 2), { claim: c, output: 's' });
    this.#watched.set(outpointKey(c.ids.assert, 0), { claim: c, output: 'd' });
    this.#heights.set(c.kickoffTxid, { claim: c, of: 'kickoff' });
    this.#heights.set(c.ids.assert, { claim: c, of: 'assert' });
  }

  /**
   * Forgets every settled claim (a served devnet, whose claims run into the thousands, keeps only the
   * open ones in memory and records the rest on disk); returns their epochs. The forgotten epochs'
   * values are forgotten too: the caller must never claim them again (a served devnet's ledger knows).
   */
  forgetSettled(): bigint[] {
    const gone: bigint[] = [];
    for (const c of this.#tracked.values()) {
      if (!settled(c)) continue;
      gone.push(c.epoch);
      this.#tracked.delete(c.epoch);
      this.#signed.delete(c.epoch);
      this.#watched.delete(outpointKey(c.kickoffTxid, 0));
      this.#watched.delete(outpointKey(c.kickoffTxid, 2));
      this.#watched.delete(outpointKey(c.ids.assert, 0));
      this.#heights.delete(c.kickoffTxid);
      this.#heights.delete(c.ids.assert);
    }
    return gone;
  }

  /** One transaction confirmed at `height`: a kick-off's or an assert's height, or a watched spend. */
  observe(btx: BlockTx, height: number): void {
    const at = this.#heights.get(btx.txid);
    if (at?.of === 'kickoff') at.claim.kickoffHeight = height;
    if (at?.of === 'assert') at.claim.assertHeight = height;
    for (const input of btx.tx.inputs) {
      const w = this.#watched.get(outpointKey(hashToDisplayHex(input.prevTxid), input.vout));
      if (w !== undefined) w.claim.spent[w.output] = btx.txid;
    }
  }
}
