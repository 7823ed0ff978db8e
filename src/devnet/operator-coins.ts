/**
 * The devnet operator's coins. Every claim spends one coin into the claim output plus change, and the
 * devnet broadcasts many claims before it mines a block, so one chain of change outputs would soon pass
 * the mempool's 25-transaction ancestor/descendant limits. The operator therefore splits its funding into
 * many coins and lets each coin's change chain grow only a few unconfirmed transactions deep.
 */
import { hashToDisplayHex, txid } from '../bitcoin/tx/serialize.ts';
import { SIGHASH_DEFAULT } from '../bitcoin/tx/sighash.ts';
import type { Tx, TxOutput } from '../bitcoin/tx/types.ts';
import { VigilError } from '../core/errors.ts';
import { signKeyPathInput } from '../dispute/graph/challenge.ts';

export class OperatorFundsError extends VigilError {
  override name = 'OperatorFundsError';
}

/** Signals RBF, no relative lock. */
const SEQUENCE = 0xfffffffd;
/** Change below this goes to the fee rather than into a coin nobody would use. */
const MIN_CHANGE = 10_000n;

export type OperatorCoin = {
  txid: Uint8Array;
  vout: number;
  value: bigint;
  /** The operator's own unconfirmed transactions this coin descends from (display-hex txids). */
  unconfirmed: Set<string>;
};

export type WalletSigner = { secret: Uint8Array; script: Uint8Array };

export class CoinPool {
  readonly #coins: OperatorCoin[] = [];

  /** `maxChain`: how many unconfirmed claim transactions one coin's change chain may hold. */
  constructor(private readonly maxChain: number) {}

  add(coin: OperatorCoin): void {
    this.#coins.push(coin);
  }

  /** A transaction of the operator confirmed: its descendants are that much shallower. */
  confirmed(txidHex: string): void {
    for (const c of this.#coins) c.unconfirmed.delete(txidHex);
  }

  get size(): number {
    return this.#coins.length;
  }

  /** Holds the coin at this outpoint (txid in display hex). */
  has(txidHex: string, vout: number): boolean {
    return this.#coins.some((c) => c.vout === vout && hashToDisplayHex(c.txid) === txidHex);
  }

  /** How many claims of `perClaim` sats the coins could fund, depth aside. */
  worth(perClaim: bigint): number {
    return this.#coins.reduce((n, c) => n + Number(c.value / perClaim), 0);
  }

  /** Removes and returns the shallowest coin worth at least `value`. */
  take(value: bigint): OperatorCoin {
    let best: OperatorCoin | undefined;
    for (const c of this.#coins) {
      if (c.value < value || c.unconfirmed.size >= this.maxChain) continue;
      if (best === undefined || c.unconfirmed.size < best.unconfirmed.size) best = c;
    }
    if (best === undefined) {
      const rich = this.#coins.filter((c) => c.value >= value).length;
      throw new OperatorFundsError(
        rich === 0
          ? `The operator has no coin worth ${value} sats left for a claim`
          : `All ${rich} of the operator's coins are ${this.maxChain} unconfirmed claims deep`,
        {
          metaMessages:
            rich === 0
              ? ['Fund the operator again (a longer run needs more coins).']
              : ['Mine a block before claiming more epochs.'],
        },
      );
    }
    this.#coins.splice(this.#coins.indexOf(best), 1);
    return best;
  }
}

/**
 * Spends `coin` (a key-path P2TR coin of the wallet) into `outputs` plus change back to the wallet.
 * Returns the signed transaction and the change coin, if any.
 */
export function spendCoin(
  coin: OperatorCoin,
  outputs: readonly TxOutput[],
  fee: bigint,
  wallet: WalletSigner,
): { tx: Tx; change: OperatorCoin | undefined } {
  const spent = outputs.reduce((s, o) => s + o.value, 0n) + fee;
  if (coin.value < spent) {
    throw new OperatorFundsError(`A coin of ${coin.value} sats cannot pay ${spent} sats`);
  }
  const changeValue = coin.value - spent;
  const tx: Tx = {
    version: 2,
    locktime: 0,
    inputs: [
      { prevTxid: coin.txid, vout: coin.vout, scriptSig: new Uint8Array(), sequence: SEQUENCE, witness: [] },
    ],
    outputs: [...outputs],
  };
  if (changeValue >= MIN_CHANGE) tx.outputs.push({ value: changeValue, script: wallet.script });
  signKeyPathInput(
    { tx, prevouts: [{ value: coin.value, script: wallet.script }] },
    0,
    wallet.secret,
    SIGHASH_DEFAULT,
  );
  const id = txid(tx);
  const change =
    changeValue >= MIN_CHANGE
      ? {
          txid: id,
          vout: outputs.length,
          value: changeValue,
          unconfirmed: new Set([...coin.unconfirmed, hashToDisplayHex(id)]),
        }
      : undefined;
  return { tx, change };
}

/**
 * Spends `coins` (key-path P2TR coins of the wallet) into `n` equal coins of the wallet; the fee takes
 * `fee` and the division's remainder. Returns the signed transaction and the value of each coin.
 */
export function splitCoins(
  coins: readonly Omit<OperatorCoin, 'unconfirmed'>[],
  n: number,
  fee: bigint,
  wallet: WalletSigner,
): { tx: Tx; each: bigint } {
  const total = coins.reduce((s, c) => s + c.value, 0n);
  const each = n < 1 ? 0n : (total - fee) / BigInt(n);
  if (coins.length === 0 || each < MIN_CHANGE) {
    throw new OperatorFundsError(`${coins.length} coins of ${total} sats cannot be split into ${n} coins`);
  }
  const tx: Tx = {
    version: 2,
    locktime: 0,
    inputs: coins.map((c) => ({
      prevTxid: c.txid,
      vout: c.vout,
      scriptSig: new Uint8Array(),
      sequence: SEQUENCE,
      witness: [],
    })),
    outputs: Array.from({ length: n }, () => ({ value: each, script: wallet.script })),
  };
  const prevouts = coins.map((c) => ({ value: c.value, script: wallet.script }));
  for (let i = 0; i < coins.length; i++) {
    signKeyPathInput({ tx, prevouts }, i, wallet.secret, SIGHASH_DEFAULT);
  }
  return { tx, each };
}
