/**
 * `vigil devnet --operator stall-at:<move>` (docs/protocol.md §24.11 items 9 and 26): a lying operator
 * that keeps one move of each game unconfirmed past its opponent's timeout. It sends the move in the last
 * block before that timeout is valid, as `late` does, and hangs on the move's anchor a large child that
 * pays the relay minimum; from then on the devnet's blocks take only packages paying `STALL_FLOOR_SAT_VB`
 * (fees rose past the presigned rate, and the operator does not pay for its move). Neither confirms.
 * Vigil's timeout spends the same output as the move, so it is a BIP-125 replacement of the move and its
 * child: refused unless it pays more in absolute fee than both, which only the top rungs of its
 * presigned ladder do.
 *
 * `pin-at:<move>` is the same stall with the strongest child the operator can hang below the market: as
 * large as Core's 101 kvB package limit allows, paying just under the floor for the package. Its absolute
 * fee then beats every rung of Vigil's timeout, so nothing Vigil can send replaces it while the market
 * stays up: the game waits until fees fall and the move confirms, late.
 */
import { txid, txVsize } from '../bitcoin/tx/serialize.ts';
import { SIGHASH_DEFAULT } from '../bitcoin/tx/sighash.ts';
import type { Tx, TxInput, TxOutput } from '../bitcoin/tx/types.ts';
import { equalBytes } from '../core/bytes.ts';
import { anchorOf } from '../dispute/game/challenge-cpfp.ts';
import { signKeyPathInput } from '../dispute/graph/challenge.ts';
import type { WalletSigner } from './operator-coins.ts';

/**
 * The market while a move is stalled (sat/vB): above the presigned rate of the devnet's moves, takes and
 * payouts (1 sat/vB), below the upper rungs of the slash and timeout ladders.
 */
export const STALL_FLOOR_SAT_VB = 5;

/** The stall's child's outputs: about 43 vB each, so the child is about 43 kvB at 1 sat/vB. */
const PAD_OUTPUTS = 1_000;
/** Core 26's limit on a transaction's descendants (and a child's ancestors), in vB, and a margin under it. */
const PACKAGE_LIMIT_VB = 101_000;
const PACKAGE_MARGIN_VB = 1_000;
/** Core's standard weight is 400,000 WU: a child of at most 99 kvB keeps clear of it. */
const MAX_PAD_VB = 99_000;
/** A pin's package pays this much under the market's floor (sat/kvB). */
const PIN_UNDER_FLOOR_SAT_KVB = 250n;
const PAD_OUTPUT_VALUE = 1_000n;

/** Signals RBF, no relative lock. */
const SEQUENCE = 0xfffffffd;

/** A confirmed coin of the operator's wallet that pays for one pad. */
export type PadCoin = { readonly txid: Uint8Array; readonly vout: number; readonly value: bigint };

/** The move as the mempool holds it, for a pin sized against it. */
export type MempoolMove = { readonly vsize: number; readonly fee: bigint };

/**
 * The child that stalls `move`: its anchor (the operator's key) and `coin` into many small outputs and
 * change, all to the operator's wallet. A stall's pays exactly the relay minimum for its own size; with
 * `pin`, it is as large as the package limit allows and the package (the move and it) pays just under
 * `pin.floorSatVb`.
 */
export function stallPad(
  move: Tx,
  coin: PadCoin,
  wallet: WalletSigner,
  pin?: { readonly move: MempoolMove; readonly floorSatVb: number },
): Tx {
  const anchor = anchorOf(move);
  if (!equalBytes(anchor.script, wallet.script))
    throw new Error("The move's anchor is not the operator's: only its own moves can be stalled");
  const inputs: TxInput[] = [
    { prevTxid: txid(move), vout: anchor.vout, scriptSig: new Uint8Array(), sequence: SEQUENCE, witness: [] },
    { prevTxid: coin.txid, vout: coin.vout, scriptSig: new Uint8Array(), sequence: SEQUENCE, witness: [] },
  ];
  const count =
    pin === undefined
      ? PAD_OUTPUTS
      : Math.floor((Math.min(MAX_PAD_VB, PACKAGE_LIMIT_VB - PACKAGE_MARGIN_VB - pin.move.vsize) - 200) / 43);
  const pads: TxOutput[] = Array.from({ length: count }, () => ({
    value: PAD_OUTPUT_VALUE,
    script: wallet.script,
  }));
  const holds = anchor.value + coin.value - PAD_OUTPUT_VALUE * BigInt(count);
  const build = (fee: bigint): Tx => {
    const tx: Tx = {
      version: 2,
      locktime: 0,
      inputs: inputs.map((i) => ({ ...i, witness: [] })),
      outputs: [...pads, { value: holds - fee, script: wallet.script }],
    };
    const prevouts = [
      { value: anchor.value, script: anchor.script },
      { value: coin.value, script: wallet.script },
    ];
    signKeyPathInput({ tx, prevouts }, 0, wallet.secret, SIGHASH_DEFAULT);
    signKeyPathInput({ tx, prevouts }, 1, wallet.secret, SIGHASH_DEFAULT);
    return tx;
  };
  // Schnorr signatures are always 64 bytes, so the size does not change with the fee.
  const vsize = BigInt(txVsize(build(0n)));
  let fee = vsize;
  if (pin !== undefined) {
    const rate = BigInt(pin.floorSatVb) * 1000n - PIN_UNDER_FLOOR_SAT_KVB;
    const pinFee = (rate * (vsize + BigInt(pin.move.vsize))) / 1000n - pin.move.fee;
    if (pinFee > fee) fee = pinFee;
  }
  if (holds - fee < PAD_OUTPUT_VALUE)
    throw new Error(`A coin of ${coin.value} sats cannot pay for the stall`);
  return build(fee);
}
