/**
 * The watcher's wallet: one key, one address (P2TR key path per BIP-86, or P2WPKH), coins listed
 * from the backend. It funds payments with RBF-signalling inputs at an exact fee for a target rate
 * (sign, measure the vsize, adjust, sign again), keeps change only above dust (else the change goes to
 * the fee), never spends below its reserve, and exports its balance as a gauge.
 */

import { script as libScript } from 'bitcoinjs-lib';
import type { Logger } from 'pino';
import { Gauge, type Registry } from 'prom-client';
import { concatBytes, hexToBytes } from '../../core/bytes.ts';
import { VigilError } from '../../core/errors.ts';
import { hash160 } from '../../core/hashes.ts';
import type { BitcoinBackend, BroadcastOptions, Utxo } from '../backends/types.ts';
import { addressForScript } from '../codec/address.ts';
import { encodeTx, txidHex, txVsize } from '../codec/codec.ts';
import { type FeeRate, feeForVsize } from '../codec/fee-rate.ts';
import type { BitcoinNetwork } from '../network.ts';
import { dustThreshold } from '../tx/policy.ts';
import { PrecomputedTxData } from '../tx/precomputed.ts';
import { SIGHASH_ALL, SIGHASH_DEFAULT, segwitV0Sighash, taprootSighash } from '../tx/sighash.ts';
import type { Prevout, Tx, TxOutput } from '../tx/types.ts';
import type { WalletKey } from './keys.ts';

export type WalletKind = 'p2tr' | 'p2wpkh';

/** BIP-125 signalling and no relative lock: nSequence 0xfffffffd. */
export const RBF_SEQUENCE = 0xfffffffd;

export class InsufficientFundsError extends VigilError {
  override name = 'InsufficientFundsError';
}

export class ReserveViolationError extends VigilError {
  override name = 'ReserveViolationError';
}

export type WatcherWalletOptions = {
  backend: BitcoinBackend;
  key: WalletKey;
  kind: WalletKind;
  network: BitcoinNetwork;
  /** Balance the wallet keeps for emergencies (fee bumps); no payment leaves less than this. */
  reserve: bigint;
  registry?: Registry;
  logger?: Logger;
  /** Spend unconfirmed coins too (default false: an unconfirmed parent can be replaced or reorged away). */
  spendUnconfirmed?: boolean;
  /** Label of the balance gauge. */
  name?: string;
};

export type PaymentRequest = { outputs: TxOutput[]; feeRate: FeeRate; locktime?: number };

export type Payment = {
  tx: Tx;
  raw: Uint8Array;
  txid: string;
  fee: bigint;
  vsize: number;
  inputs: Utxo[];
  /** Index and value of the change output, when there is one. */
  change: { vout: number; value: bigint } | undefined;
};

/** Blocks a coinbase output waits before it can be spent (Core's COINBASE_MATURITY). */
export const COINBASE_MATURITY = 100;

/**
 * Whether a coin can go into a transaction mined in the next block. A coinbase output is spendable in
 * the block 100 above its own. Backends that do not say whether a coin is a coinbase (Esplora's
 * /utxo has no such field) give `coinbase: undefined`, which passes: with Esplora, keep mined coins
 * out of the watcher wallet's address.
 */
export function isMatureCoin(u: Pick<Utxo, 'coinbase' | 'height'>, tip: number): boolean {
  return u.coinbase !== true || (u.height !== undefined && tip + 1 - u.height >= COINBASE_MATURITY);
}

const BALANCE_METRIC = 'vigil_wallet_balance_sats';

export class WatcherWallet {
  readonly address: string;
  readonly script: Uint8Array;
  readonly kind: WalletKind;
  private readonly options: WatcherWalletOptions;
  private readonly gauge: Gauge<'wallet'> | undefined;
  private utxos: Utxo[] = [];

  constructor(options: WatcherWalletOptions) {
    this.options = options;
    this.kind = options.kind;
    this.script =
      options.kind === 'p2tr'
        ? concatBytes(Uint8Array.from([0x51, 0x20]), options.key.taprootOutputKey)
        : concatBytes(Uint8Array.from([0x00, 0x14]), hash160(options.key.publicKey));
    const address = addressForScript(this.script, options.network);
    if (address === undefined) throw new VigilError('Cannot encode the wallet address');
    this.address = address;
    if (options.registry) {
      const existing = options.registry.getSingleMetric(BALANCE_METRIC);
      this.gauge =
        (existing as Gauge<'wallet'> | undefined) ??
        new Gauge({
          name: BALANCE_METRIC,
          help: 'Spendable balance of the watcher wallet, in satoshis',
          labelNames: ['wallet'],
          registers: [options.registry],
        });
    }
  }

  /** Lists the wallet's coins from the backend and updates the balance gauge. */
  async refresh(): Promise<Utxo[]> {
    const [all, tip] = await Promise.all([
      this.options.backend.getUtxos(this.address),
      this.options.backend.getTipHeight(),
    ]);
    this.utxos = all.filter(
      (u) => (u.confirmed || this.options.spendUnconfirmed === true) && isMatureCoin(u, tip),
    );
    this.gauge?.set({ wallet: this.options.name ?? this.kind }, Number(this.balance));
    return this.utxos;
  }

  get balance(): bigint {
    return this.utxos.reduce((s, u) => s + u.value, 0n);
  }

  get dustLimit(): bigint {
    return dustThreshold({ value: 0n, script: this.script });
  }

  /** Builds and signs a payment; nothing is broadcast. Call `refresh()` first. */
  createPayment(request: PaymentRequest): Payment {
    const target = request.outputs.reduce((s, o) => s + o.value, 0n);
    const coins = [...this.utxos].sort((a, b) => (a.value === b.value ? 0 : a.value > b.value ? -1 : 1));
    const selected: Utxo[] = [];
    let inValue = 0n;
    for (const coin of coins) {
      selected.push(coin);
      inValue += coin.value;
      const estimate = feeForVsize(
        request.feeRate,
        this.estimateVsize(selected.length, request.outputs.length),
      );
      if (inValue < target + estimate) continue;
      const built = this.build(selected, inValue, target, request);
      if (built !== undefined) return this.finish(built, selected, inValue, target);
    }
    throw new InsufficientFundsError(
      `Insufficient funds: need more than ${target} sat, have ${this.balance} sat`,
      {
        metaMessages: [`Wallet ${this.address}; fee rate ${request.feeRate.satPerKvb} sat/kvB.`],
      },
    );
  }

  /**
   * Signs with change when the change after its own cost is above dust, else without; measures the
   * signed vsize and re-signs until fee = rate × vsize. Undefined when these coins cannot pay.
   */
  private build(
    coins: Utxo[],
    inValue: bigint,
    target: bigint,
    request: PaymentRequest,
  ): { tx: Tx; fee: bigint; change: bigint | undefined } | undefined {
    // The change amount does not change the size: measure with a provisional amount.
    let change = inValue - target;
    for (let round = 0; round < 8; round++) {
      const tx = this.sign(coins, request, change);
      const required = feeForVsize(request.feeRate, txVsize(tx));
      const exact = inValue - target - required;
      if (exact < this.dustLimit) break;
      if (exact === change) return { tx, fee: required, change };
      // ECDSA signatures vary by a byte: after a few rounds, take a fee not below the target.
      if (round >= 4 && exact > change) return { tx, fee: inValue - target - change, change };
      change = exact;
    }
    const tx = this.sign(coins, request, undefined);
    const required = feeForVsize(request.feeRate, txVsize(tx));
    if (inValue - target < required) return undefined;
    return { tx, fee: inValue - target, change: undefined };
  }

  private finish(
    built: { tx: Tx; fee: bigint; change: bigint | undefined },
    selected: Utxo[],
    inValue: bigint,
    target: bigint,
  ): Payment {
    const { tx, fee, change } = built;
    const remaining = this.balance - inValue + (change ?? 0n);
    if (remaining < this.options.reserve) {
      throw new ReserveViolationError(
        `Payment refused: it would leave ${remaining} sat, below the reserve of ${this.options.reserve} sat`,
        { metaMessages: [`Balance ${this.balance} sat, payment ${target} sat + fee ${fee} sat.`] },
      );
    }
    const payment: Payment = {
      tx,
      raw: encodeTx(tx),
      txid: txidHex(tx),
      fee,
      vsize: txVsize(tx),
      inputs: selected.slice(),
      change: change === undefined ? undefined : { vout: tx.outputs.length - 1, value: change },
    };
    this.options.logger?.info(
      {
        txid: payment.txid,
        fee: String(fee),
        vsize: payment.vsize,
        inputs: selected.length,
        change: String(change ?? 0n),
      },
      'wallet payment built',
    );
    return payment;
  }

  /** Builds, broadcasts, and forgets the spent coins until the next refresh. */
  async pay(request: PaymentRequest, broadcast: BroadcastOptions = {}): Promise<Payment> {
    const payment = this.createPayment(request);
    await this.options.backend.broadcast(payment.raw, broadcast);
    const spent = new Set(payment.inputs.map((u) => `${u.txid}:${u.vout}`));
    this.utxos = this.utxos.filter((u) => !spent.has(`${u.txid}:${u.vout}`));
    this.gauge?.set({ wallet: this.options.name ?? this.kind }, Number(this.balance));
    return payment;
  }

  private estimateVsize(inputs: number, outputs: number): number {
    const perInput = this.kind === 'p2tr' ? 58 : 69;
    return 11 + inputs * perInput + outputs * 43;
  }

  private sign(coins: Utxo[], request: PaymentRequest, change: bigint | undefined): Tx {
    const tx: Tx = {
      version: 2,
      locktime: request.locktime ?? 0,
      inputs: coins.map((c) => ({
        prevTxid: hexToBytes(c.txid).reverse(),
        vout: c.vout,
        scriptSig: new Uint8Array(0),
        sequence: RBF_SEQUENCE,
        witness: [],
      })),
      outputs: [
        ...request.outputs,
        ...(change === undefined ? [] : [{ value: change, script: this.script }]),
      ],
    };
    const prevouts: Prevout[] = coins.map((c) => ({ value: c.value, script: this.script }));
    const cache = new PrecomputedTxData(tx, prevouts);
    const key = this.options.key;
    tx.inputs.forEach((input, i) => {
      const prev = prevouts[i] as Prevout;
      if (this.kind === 'p2tr') {
        const h = taprootSighash(cache, i, SIGHASH_DEFAULT, 'taproot');
        if (!h.ok) throw new VigilError(`Cannot compute the taproot sighash: ${h.reason}`);
        input.witness = [key.signSchnorrTweaked(h.hash)];
      } else {
        // BIP-143 scriptCode of P2WPKH: the P2PKH script of the key hash.
        const scriptCode = concatBytes(
          Uint8Array.from([0x76, 0xa9, 0x14]),
          hash160(key.publicKey),
          Uint8Array.from([0x88, 0xac]),
        );
        const h = segwitV0Sighash(tx, i, scriptCode, prev.value, SIGHASH_ALL, cache);
        input.witness = [
          Uint8Array.from(libScript.signature.encode(key.signEcdsa(h), SIGHASH_ALL)),
          key.publicKey,
        ];
      }
    });
    return tx;
  }
}
